package main

import (
	"context"
	"fmt"
	"image"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/imagedata"
	"github.com/tapeml/tapeml/predictio"
	"github.com/tapeml/tapeml/kinds"
)

func runPredict(e env, args []string) error {
	fs := newFlags(e, "predict", "tapeml predict --checkpoint DIR [--json] [--top K] [--input-format text|jsonl|csv] [INPUT ...]  (texts, or image files for image models; without INPUT: texts from stdin)")
	ckpt := fs.String("checkpoint", "", "checkpoint folder, a run folder (its best checkpoint) or an exported .safetensors file")
	asJSON := fs.Bool("json", false, "print one JSON object per input")
	top := fs.Int("top", 3, "image models: how many classes to show")
	format := fs.String("input-format", predictio.FormatText, "text models, stdin: text (a text per line), jsonl (an object per line) or csv (with a header row)")
	column := fs.String("text-column", "text", "the JSONL field or CSV column holding the text")
	batch := fs.Int("batch", 256, "text models: texts predicted together, at most (stdin is read and answered a batch at a time)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if !predictio.ValidFormat(*format) {
		return usagef("--input-format %q: want text, jsonl or csv", *format)
	}
	if *batch < 1 {
		return usagef("--batch must be at least 1, got %d", *batch)
	}
	if *format != predictio.FormatText && fs.NArg() > 0 {
		return usagef("--input-format %s reads stdin; give no texts as arguments", *format)
	}
	if *ckpt == "" {
		return fmt.Errorf("--checkpoint is required")
	}
	m, err := tapeml.Load(*ckpt)
	if err != nil {
		return err
	}
	switch m.Loaded().Spec.Kind.Family {
	case kinds.Text:
		return predictTexts(e, m, fs.Args(), textInput{*format, *column, *batch}, *asJSON)
	case kinds.Image:
		if *top < 1 {
			return fmt.Errorf("--top must be at least 1, got %d", *top)
		}
		return predictImages(e, m, fs.Args(), *asJSON, *top)
	}
	return fmt.Errorf("recommenders predict with 'tapeml recommend' and 'tapeml similar'")
}

// textInput is how predict reads texts.
type textInput struct {
	format, column string
	batch          int
}

// predictTexts classifies the arguments, or else stdin as it arrives.
func predictTexts(e env, m *tapeml.Model, texts []string, in textInput, asJSON bool) error {
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
	n, err := streamTexts(e, m, recs, in.batch, asJSON)
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
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if imgs[i], err = imagedata.DecodeImage(b); err != nil {
			return fmt.Errorf("%s: %w", path, err)
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

// imageError names the file behind the library's "image N" in an error.
func imageError(err error, paths []string) error {
	msg := err.Error()
	for i := len(paths) - 1; i >= 0; i-- {
		if tag := fmt.Sprintf("image %d: ", i); strings.Contains(msg, tag) {
			return fmt.Errorf("%s: %s", paths[i], msg[strings.Index(msg, tag)+len(tag):])
		}
	}
	return err
}

func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
