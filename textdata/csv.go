package textdata

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/tapeml/tapeml/internal/safeio"
)

// loadCSV reads a CSV file with a header row naming its text and label
// columns. Labels are strings; the classes are the distinct labels, sorted.
func loadCSV(path string, opt TextOptions) (*TextCorpus, error) {
	b, err := safeio.ReadFile(path, MaxFileBytes)
	if err != nil {
		return nil, err
	}
	if err := checkUTF8(b); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	textCol, labelCol := opt.columns()

	r := csv.NewReader(bytes.NewReader(b))
	header, err := r.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file; want a header row with columns %q and %q", path, textCol, labelCol)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	textAt, labelAt := slices.Index(header, textCol), slices.Index(header, labelCol)
	for _, missing := range []struct {
		at          int
		name, field string
	}{{textAt, textCol, "TextColumn"}, {labelAt, labelCol, "LabelColumn"}} {
		if missing.at < 0 {
			return nil, &ColumnError{Path: path, Column: missing.name, Header: header, Field: "TextOptions." + missing.field}
		}
	}

	type row struct {
		text, label, source string
	}
	var rows []row
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var parse *csv.ParseError
			if errors.As(err, &parse) {
				return nil, fmt.Errorf("%s:line %d: %w", path, parse.Line, parse.Err)
			}
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		source := fmt.Sprintf("%s:line %d", path, line)
		label := strings.TrimSpace(rec[labelAt])
		if label == "" {
			return nil, fmt.Errorf("%s: empty label in column %q", source, labelCol)
		}
		rows = append(rows, row{text: rec[textAt], label: label, source: source})
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: empty corpus: no rows after the header", path)
	}

	var classes []string
	seen := map[string]bool{}
	for _, r := range rows {
		if !seen[r.label] {
			seen[r.label] = true
			classes = append(classes, r.label)
		}
	}
	slices.Sort(classes)
	examples := make([]TextExample, len(rows))
	for i, r := range rows {
		label, _ := slices.BinarySearch(classes, r.label)
		examples[i] = TextExample{Text: opt.Clean(r.text), Label: label, Source: r.source}
	}
	return SplitText(classes, examples, opt.Seed)
}

// ColumnError is a CSV file whose header lacks the text or label column.
type ColumnError struct {
	Path   string
	Column string   // the column looked for
	Header []string // the header row
	// Field is the option that names the column:
	// "TextOptions.TextColumn" or "TextOptions.LabelColumn".
	Field string
}

func (e *ColumnError) Error() string {
	return e.Named(func(key string) string { return key })
}

// Named says the error with the option named by name(e.Field).
func (e *ColumnError) Named(name func(key string) string) string {
	return fmt.Sprintf("%s:line 1: no column %q in the header %q (choose another with %s)", e.Path, e.Column, e.Header, name(e.Field))
}
