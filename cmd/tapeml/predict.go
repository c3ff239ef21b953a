package main

import (
	"context"
	"errors"
	"fmt"
	"image"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/api"
	"github.com/tapeml/tapeml/imageclass"
	"github.com/tapeml/tapeml/imagedata"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/predictio"
)

func predictCmd(e env) *cobra.Command {
	var ckpt, format, column string
	var asJSON bool
	var top, batch int
	var threshold float64
	c := &cobra.Command{
		Use:   "predict --checkpoint DIR [--json] [--top K] [--threshold T] [--input-format text|jsonl|csv] [INPUT ...]  (texts, or image files for image models; without INPUT: texts from stdin)",
		Short: "predict texts from the arguments or stdin",
		RunE: func(c *cobra.Command, args []string) error {
			thresholdSet := c.Flags().Changed("threshold")
			switch {
			case !predictio.ValidFormat(format):
				return usagef("--input-format %q: want text, jsonl or csv", format)
			case batch < 1:
				return usagef("--batch must be at least 1, got %d", batch)
			case top < 1:
				return usagef("--top must be at least 1, got %d", top)
			case thresholdSet && !(threshold >= 0 && threshold <= 1):
				return usagef("--threshold must be a probability between 0 and 1, got %g", threshold)
			case format != predictio.FormatText && len(args) > 0:
				return usagef("--input-format %s reads stdin; give no texts as arguments", format)
			case ckpt == "":
				return usagef("--checkpoint is required")
			}
			m, err := tapeml.Load(ckpt)
			if err != nil {
				return err
			}
			out := predictOutput{json: asJSON, top: top, showTop: c.Flags().Changed("top") || m.PositiveClass() == "", threshold: -1}
			if thresholdSet {
				if m.PositiveClass() == "" {
					return usagef("--threshold applies to binary models; this %s model has %d classes (--top K shows the most probable)", m.Name(), len(m.Classes()))
				}
				out.threshold = float32(threshold)
			}
			switch {
			case takes(m, "text"):
				return predictTexts(e, m, args, textInput{format, column, batch}, out)
			case takes(m, "image"):
				return predictImages(e, m, args, asJSON, top)
			}
			return fmt.Errorf("%s models predict with 'tapeml recommend' and 'tapeml similar'", m.Name())
		},
	}
	fs := c.Flags()
	fs.StringVar(&ckpt, "checkpoint", "", "checkpoint folder, a run folder (its best checkpoint) or an exported .safetensors file")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object per input")
	fs.IntVar(&top, "top", 3, "how many classes to show, most probable first (image models, and text models of more than 2 classes; a binary text model shows them when it is given)")
	fs.Float64Var(&threshold, "threshold", kinds.DefaultThreshold, "binary models: predict the positive class when its probability is at least this")
	fs.StringVar(&format, "input-format", predictio.FormatText, "text models, stdin: text (a text per line), jsonl (an object per line) or csv (with a header row)")
	fs.StringVar(&column, "text-column", "text", "the JSONL field or CSV column holding the text")
	fs.IntVar(&batch, "batch", 256, "text models: texts predicted together, at most (stdin is read and answered a batch at a time)")
	return c
}

// predictOutput is how predict answers.
type predictOutput struct {
	json bool
	top  int
	// showTop: list the top classes (models of more than 2 classes, or
	// --top given).
	showTop bool
	// threshold is --threshold for a binary model, or -1.
	threshold float32
}

// takes reports whether m's signature has an input called name: "text"
// for models that read texts, "image" for those that read image files.
func takes(m *tapeml.Model, name string) bool {
	for _, in := range m.Signature().Inputs {
		if in.Name == name {
			return true
		}
	}
	return false
}

// textInput is how predict reads texts.
type textInput struct {
	format, column string
	batch          int
}

// predictTexts classifies the arguments, or else stdin as it arrives.
func predictTexts(e env, m *tapeml.Model, texts []string, in textInput, out predictOutput) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	recs := make(chan record, in.batch)
	readErr := make(chan error, 1)
	go func() {
		if len(texts) == 0 {
			readErr <- readRecords(ctx, e.stdin, in.format, in.column, recs)
			return
		}
		defer close(recs)
		for i, t := range texts {
			select {
			case recs <- record{Line: i + 1, Text: t}:
			case <-ctx.Done():
				readErr <- ctx.Err()
				return
			}
		}
		readErr <- nil
	}()
	n, err := streamTexts(e, m, recs, in.batch, out)
	cancel() // stops the reader if the predictions failed
	if rerr := <-readErr; err == nil && rerr != nil {
		err = rerr
	}
	if err == nil && n == 0 {
		return fmt.Errorf("no texts: give them as arguments or one per line on stdin")
	}
	return err
}

func predictImages(e env, m *tapeml.Model, paths []string, asJSON bool, top int) error {
	if len(paths) == 0 {
		return fmt.Errorf("no images: give PNG or JPEG files as arguments")
	}
	want := m.Inputs()[0].Shape // [C, H, W]
	imgs := make([]image.Image, len(paths))
	for i, path := range paths {
		var err error
		if imgs[i], err = imagedata.ReadImage(path); err != nil {
			return err
		}
		if r := imgs[i].Bounds(); r.Dx() != want[2] || r.Dy() != want[1] {
			fmt.Fprintf(e.stderr, "tapeml predict: %s: resized from %d×%d to the model's %d×%d\n", path, r.Dx(), r.Dy(), want[2], want[1])
		}
	}
	preds, err := m.ClassifyImages(context.Background(), imgs)
	if err != nil {
		return imageError(err, paths)
	}
	classes := m.Classes()
	for i, p := range preds {
		if asJSON {
			if err := printJSON(e, predictio.ImageObject(paths[i], p, classes, top)); err != nil {
				return err
			}
			continue
		}
		var parts []string
		for _, j := range predictio.TopClasses(p, top) {
			parts = append(parts, fmt.Sprintf("%s %.4f", classes[j], p.Probs[j]))
		}
		fmt.Fprintf(e.stdout, "%s\t%s\n", paths[i], strings.Join(parts, "  "))
	}
	return nil
}

// imageError names the file behind the library's image index.
func imageError(err error, paths []string) error {
	var im *imageclass.ImageError
	if errors.As(err, &im) && im.Index >= 0 && im.Index < len(paths) {
		return fmt.Errorf("%s: %w", paths[im.Index], im.Err)
	}
	return nonFinite(err, func(i int) string { return paths[i] }, "")
}

// nonFinite turns a NaN or infinite model output into an error naming the
// input it answered (name(i) for the call's i-th input), so that a
// command never prints "NaN ham" and exits 0; other errors get the prefix
// where, if any.
func nonFinite(err error, name func(i int) string, where string) error {
	var nf *api.NonFiniteError
	if errors.As(err, &nf) && nf.Example >= 0 {
		return fmt.Errorf("%s: the model's output is %v, not an answer: its weights overflow on this input (or are broken)", name(nf.Example), nf.Value)
	}
	if where != "" {
		return fmt.Errorf("%s: %w", where, err)
	}
	return err
}

// textColumn is predict's last column: the text's excerpt, marked when
// the model knew none of its tokens (the answer is the training prior).
func textColumn(p tapeml.Prediction, text string) string {
	if p.NoEvidence {
		return "(no known token: the training prior) " + excerpt(text, 60)
	}
	return excerpt(text, 60)
}

func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
