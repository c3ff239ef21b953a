package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/tapeml/tapeml"
)

// Input formats of predict's stdin.
const (
	formatText  = "text"  // one text per line
	formatJSONL = "jsonl" // one JSON object per line, the text in a field
	formatCSV   = "csv"   // a header row, the text in a column
)

// maxInputLine bounds one line (or CSV record) of predict's input.
const maxInputLine = 64 << 20

// record is one text of the input and where it came from: its line on
// stdin (a CSV record's first line), or its position among the arguments.
type record struct {
	line int
	text string
}

// readRecords sends stdin's texts to out in order, closing it at the end;
// it stops with an error naming the line on bad input, or when ctx is done.
func readRecords(ctx context.Context, r io.Reader, format, column string, out chan<- record) error {
	defer close(out)
	send := func(rec record) error {
		if !utf8.ValidString(rec.text) {
			return fmt.Errorf("stdin line %d is not valid UTF-8", rec.line)
		}
		select {
		case out <- rec:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if format == formatCSV {
		return readCSV(r, column, send)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxInputLine)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if format == formatJSONL {
			if len(sc.Bytes()) == 0 || isSpace(sc.Bytes()) {
				continue // blank lines separate nothing in JSONL
			}
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(sc.Bytes(), &obj); err != nil {
				return fmt.Errorf("stdin line %d: not a JSON object: %v", line, err)
			}
			raw, ok := obj[column]
			if !ok {
				return fmt.Errorf("stdin line %d: no %q field (--text-column names it)", line, column)
			}
			if err := json.Unmarshal(raw, &text); err != nil {
				return fmt.Errorf("stdin line %d: field %q is not a string", line, column)
			}
		}
		if err := send(record{line, text}); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("reading stdin: a line is longer than %d MiB", maxInputLine>>20)
		}
		return fmt.Errorf("reading stdin: %w", err)
	}
	return nil
}

func isSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

func readCSV(r io.Reader, column string, send func(record) error) error {
	cr := csv.NewReader(bufio.NewReaderSize(r, 64<<10))
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stdin: CSV header: %w", err)
	}
	col := -1
	for i, h := range header {
		if h == column {
			col = i
		}
	}
	if col < 0 {
		return fmt.Errorf("stdin: the CSV header has no %q column (--text-column names it; header: %q)", column, header)
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("stdin: %w", err) // csv.ParseError names the line
		}
		line, _ := cr.FieldPos(col)
		if len(rec[col]) > maxInputLine {
			return fmt.Errorf("stdin line %d: the text is longer than %d MiB", line, maxInputLine>>20)
		}
		if err := send(record{line, rec[col]}); err != nil {
			return err
		}
	}
}

// streamTexts classifies texts as they arrive and writes each batch's
// predictions at once: it takes what has arrived, up to batch texts,
// so a pipe is read in full batches and a person typing gets each answer
// straight away. Memory is bounded by the batch.
func streamTexts(e env, m *tapeml.Model, in <-chan record, batch int, asJSON bool) (int, error) {
	w := bufio.NewWriter(e.stdout)
	defer w.Flush()
	ctx := context.Background()
	pos := m.Loaded().Text.Pre.Positive
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
			texts = append(texts, r.text)
		}
		preds, err := m.ClassifyTexts(ctx, texts)
		if err != nil {
			return n, fmt.Errorf("line %d: %w", recs[0].line, err)
		}
		var ids []float32
		if asJSON {
			if ids, err = m.EncodeTexts(texts); err != nil {
				return n, err
			}
		}
		width := len(ids) / len(texts)
		for i, p := range preds {
			if asJSON {
				tokens := make([]int, width)
				for j := range tokens {
					tokens[j] = int(ids[i*width+j])
				}
				// prob is the positive class's, as before the runtime existed;
				// line joins the output to its input.
				b, err := json.Marshal(map[string]any{"line": recs[i].line, "prob": p.Probs[pos], "probs": p.Probs, "label": p.Label, "class": p.Class, "tokens": tokens})
				if err != nil {
					return n, err
				}
				w.Write(b)
				w.WriteByte('\n')
			} else {
				fmt.Fprintf(w, "%.4f\t%s\t%s\n", p.Probs[pos], p.Class, excerpt(texts[i], 60))
			}
		}
		n += len(preds)
		if err := w.Flush(); err != nil {
			return n, fmt.Errorf("writing the predictions: %w", err)
		}
	}
}
