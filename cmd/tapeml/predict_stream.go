package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/predictio"
)

// record is one text of the input and where it came from.
type record = predictio.Record

// readRecords sends stdin's texts to out in order, closing it at the end;
// it stops with an error naming the line on bad input, or when ctx is done.
func readRecords(ctx context.Context, r io.Reader, format, column string, out chan<- record) error {
	defer close(out)
	return predictio.ReadRecords(r, "stdin", format, column, func(rec record) error {
		select {
		case out <- rec:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}

// streamTexts classifies texts as they arrive and writes each batch's
// predictions at once: it takes what has arrived, up to batch texts,
// so a pipe is read in full batches and a person typing gets each answer
// straight away. Memory is bounded by the batch.
func streamTexts(e env, m *tapeml.Model, in <-chan record, batch int, out predictOutput) (int, error) {
	w := bufio.NewWriter(e.stdout)
	defer w.Flush()
	ctx := context.Background()
	classes := m.Classes()
	pos := slices.Index(classes, m.PositiveClass()) // -1: not binary
	recs := make([]record, 0, batch)
	texts := make([]string, 0, batch)
	n := 0
	for {
		recs, texts = recs[:0], texts[:0]
		first, ok := <-in
		if !ok {
			return n, nil
		}
		recs = append(recs, first)
	fill:
		for len(recs) < batch {
			select {
			case r, ok := <-in:
				if !ok {
					break fill
				}
				recs = append(recs, r)
			default:
				break fill
			}
		}
		for _, r := range recs {
			texts = append(texts, r.Text)
		}
		preds, err := m.ClassifyTexts(ctx, texts)
		if err != nil {
			return n, nonFinite(err, func(i int) string { return fmt.Sprintf("line %d (%q)", recs[i].Line, excerpt(texts[i], 40)) },
				fmt.Sprintf("line %d", recs[0].Line))
		}
		if out.threshold >= 0 {
			for i, p := range preds {
				preds[i] = kinds.Decide(p, classes, pos, out.threshold)
			}
		}
		if !out.json {
			for i, p := range preds {
				if out.showTop {
					var parts []string
					for _, j := range predictio.TopClasses(p, out.top) {
						parts = append(parts, fmt.Sprintf("%s %.4f", classes[j], p.Probs[j]))
					}
					fmt.Fprintf(w, "%s\t%s\n", strings.Join(parts, "  "), textColumn(p, texts[i]))
					continue
				}
				fmt.Fprintf(w, "%.4f\t%s\t%s\n", p.Probs[pos], p.Class, textColumn(p, texts[i]))
			}
		} else {
			lines := make([]int, len(recs))
			for i, r := range recs {
				lines[i] = r.Line
			}
			objs, err := predictio.TextObjects(m, lines, texts, preds)
			if err != nil {
				return n, err
			}
			for i, obj := range objs {
				if out.showTop {
					obj["top"] = predictio.TopList(preds[i], classes, out.top)
				}
				if out.threshold >= 0 {
					obj["threshold"] = out.threshold
				}
				b, err := json.Marshal(obj)
				if err != nil {
					return n, err
				}
				w.Write(b)
				w.WriteByte('\n')
			}
		}
		n += len(preds)
		if err := w.Flush(); err != nil {
			return n, fmt.Errorf("writing the predictions: %w", err)
		}
	}
}
