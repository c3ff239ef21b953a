package main

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"os"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/imagedata"
	"github.com/tapeml/tapeml/kinds"
)

func runPredict(e env, args []string) error {
	fs := newFlags(e, "predict", "tapeml predict --checkpoint DIR [--json] [--top K] [INPUT ...]  (texts, or image files for image models; without INPUT: one per line on stdin)")
	ckpt := fs.String("checkpoint", "", "checkpoint folder, a run folder (its best checkpoint) or an exported .safetensors file")
	asJSON := fs.Bool("json", false, "print one JSON object per input")
	top := fs.Int("top", 3, "image models: how many classes to show")
	if err := parse(fs, args); err != nil {
		return err
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
		return predictTexts(e, m, fs.Args(), *asJSON)
	case kinds.Image:
		if *top < 1 {
			return fmt.Errorf("--top must be at least 1, got %d", *top)
		}
		return predictImages(e, m, fs.Args(), *asJSON, *top)
	}
	return fmt.Errorf("recommenders predict with 'tapeml recommend' and 'tapeml similar'")
}

func predictTexts(e env, m *tapeml.Model, texts []string, asJSON bool) error {
	if len(texts) == 0 {
		sc := bufio.NewScanner(e.stdin)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for line := 1; sc.Scan(); line++ {
			if !utf8.Valid(sc.Bytes()) {
				return fmt.Errorf("stdin line %d is not valid UTF-8", line)
			}
			texts = append(texts, sc.Text())
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("reading stdin: %w", err)
		}
		if len(texts) == 0 {
			return fmt.Errorf("no texts: give them as arguments or one per line on stdin")
		}
	}
	preds, err := m.ClassifyTexts(context.Background(), texts)
	if err != nil {
		return err
	}
	ids, err := m.EncodeTexts(texts)
	if err != nil {
		return err
	}
	width := len(ids) / len(texts)
	pos := m.Loaded().Text.Pre.Positive
	for i, p := range preds {
		if asJSON {
			tokens := make([]int, width)
			for j := range tokens {
				tokens[j] = int(ids[i*width+j])
			}
			// prob is the positive class's, as before the runtime existed.
			if err := printJSON(e, map[string]any{"prob": p.Probs[pos], "probs": p.Probs, "label": p.Label, "class": p.Class, "tokens": tokens}); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(e.stdout, "%.4f\t%s\t%s\n", p.Probs[pos], p.Class, excerpt(texts[i], 60))
	}
	return nil
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
		order := make([]int, len(p.Probs))
		for j := range order {
			order[j] = j
		}
		sort.SliceStable(order, func(a, b int) bool { return p.Probs[order[a]] > p.Probs[order[b]] })
		order = order[:min(top, len(order))]
		if asJSON {
			var topList []map[string]any
			for _, j := range order {
				topList = append(topList, map[string]any{"label": j, "class": classes[j], "prob": p.Probs[j]})
			}
			if err := printJSON(e, map[string]any{"file": paths[i], "probs": p.Probs, "label": p.Label, "class": p.Class, "top": topList}); err != nil {
				return err
			}
			continue
		}
		var parts []string
		for _, j := range order {
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
