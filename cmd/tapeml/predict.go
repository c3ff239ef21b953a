package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tapeml/tapeml/checkpoint"
)

func runPredict(e env, args []string) error {
	fs := newFlags(e, "predict", "tapeml predict --checkpoint DIR [--json] [--top K] [INPUT ...]  (texts, or image files for image models; without INPUT: one per line on stdin)")
	ckpt := fs.String("checkpoint", "", "checkpoint folder, or a run folder (its best checkpoint)")
	asJSON := fs.Bool("json", false, "print one JSON object per input")
	top := fs.Int("top", 3, "image models: how many classes to show")
	if err := parse(fs, args); err != nil {
		return err
	}
	c, err := openCheckpoint(*ckpt, checkpoint.PickBest)
	if err != nil {
		return err
	}
	if f, ok := familyOf(c.Meta.ModelKind); ok {
		if *top < 1 {
			return fmt.Errorf("--top must be at least 1, got %d", *top)
		}
		return f.predict(e, c, predictOptions{inputs: fs.Args(), asJSON: *asJSON, top: *top})
	}
	l, err := textModelOf(c)
	if err != nil {
		return err
	}
	texts := fs.Args()
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
	ds, ids, err := l.pre.RawDataset(texts)
	if err != nil {
		return err
	}
	probs, err := l.trainer.Predict(ds)
	if err != nil {
		return err
	}
	for i, p := range probs {
		label := 0
		if p >= 0.5 {
			label = l.pre.Positive
		} else {
			label = 1 - l.pre.Positive
		}
		class := l.pre.Classes[label]
		if *asJSON {
			b, err := json.Marshal(map[string]any{"prob": p, "label": label, "class": class, "tokens": ids[i]})
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, string(b))
			continue
		}
		fmt.Fprintf(e.stdout, "%.4f\t%s\t%s\n", p, class, excerpt(texts[i], 60))
	}
	return nil
}

func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
