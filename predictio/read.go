package predictio

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/tapeml/tapeml/internal/safeio"
)

// Input formats of texts.
const (
	FormatText  = "text"  // one text per line
	FormatJSONL = "jsonl" // one JSON object per line, the text in a field
	FormatCSV   = "csv"   // a header row, the text in a column
)

// MaxLine bounds one line (or CSV record, whose quoted fields may span
// lines) of the input: 64 MiB.
const MaxLine = 64 << 20

// Record is one text of the input and where it came from: its line (a CSV
// record's first line), or its position among a command's arguments.
type Record struct {
	Line int
	Text string
}

// ValidFormat reports whether format is one of FormatText, FormatJSONL and
// FormatCSV.
func ValidFormat(format string) bool {
	return format == FormatText || format == FormatJSONL || format == FormatCSV
}

// ReadRecords passes r's texts to send in order. name says where r comes
// from in errors ("stdin", a file's path): bad input stops it with an error
// naming the line, as does an error from send.
func ReadRecords(r io.Reader, name, format, column string, send func(Record) error) error {
	check := func(rec Record) error {
		if !utf8.ValidString(rec.Text) {
			return fmt.Errorf("%s line %d is not valid UTF-8", name, rec.Line)
		}
		return send(rec)
	}
	if format == FormatCSV {
		return readCSV(r, name, column, MaxLine, check)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLine)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if format == FormatJSONL {
			if len(sc.Bytes()) == 0 || isSpace(sc.Bytes()) {
				continue // blank lines separate nothing in JSONL
			}
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(sc.Bytes(), &obj); err != nil {
				return fmt.Errorf("%s line %d: not a JSON object: %v", name, line, err)
			}
			raw, ok := obj[column]
			if !ok {
				return &ColumnError{Input: name, Line: line, Column: column}
			}
			if err := json.Unmarshal(raw, &text); err != nil {
				return fmt.Errorf("%s line %d: field %q is not a string", name, line, column)
			}
		}
		if err := check(Record{line, text}); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("reading %s: a line is longer than %d MiB", name, MaxLine>>20)
		}
		return fmt.Errorf("reading %s: %w", name, err)
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

// readCSV reads records of at most maxRecord bytes.
func readCSV(r io.Reader, name, column string, maxRecord int64, send func(Record) error) error {
	// A quoted field may span lines: the bound is on whole records.
	bounded := safeio.NewRecords(r, maxRecord)
	cr := csv.NewReader(bufio.NewReaderSize(bounded, 64<<10))
	cr.ReuseRecord = true
	tooLong := func(line int) error {
		return fmt.Errorf("%s: the CSV record after line %d is longer than %d MiB", name, line, maxRecord>>20)
	}
	header, err := cr.Read()
	if err == io.EOF {
		return nil
	}
	if errors.Is(err, safeio.ErrTooLarge) {
		return tooLong(0)
	}
	if err != nil {
		return fmt.Errorf("%s: CSV header: %w", name, err)
	}
	bounded.Mark(cr.InputOffset())
	last := 1 // the line the last complete record ended on
	col := -1
	for i, h := range header {
		if h == column {
			col = i
		}
	}
	if col < 0 {
		return &ColumnError{Input: name, Column: column, Header: header}
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if errors.Is(err, safeio.ErrTooLarge) {
			return tooLong(last)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err) // csv.ParseError names the line
		}
		bounded.Mark(cr.InputOffset())
		line, _ := cr.FieldPos(col)
		last, _ = cr.FieldPos(len(rec) - 1)
		if int64(len(rec[col])) > maxRecord {
			return fmt.Errorf("%s line %d: the text is longer than %d MiB", name, line, maxRecord>>20)
		}
		if err := send(Record{line, rec[col]}); err != nil {
			return err
		}
	}
}

// ColumnError is an input without the field (JSONL) or column (CSV) that
// holds the text: ReadRecords's column, which its caller's setting
// "text_column" names.
type ColumnError struct {
	Input  string   // where the input comes from ("stdin")
	Line   int      // JSONL: the line without the field; 0 for CSV
	Column string   // the field or column looked for
	Header []string // CSV: the header row
}

func (e *ColumnError) Error() string {
	return e.Named(func(key string) string { return "the " + key + " setting" })
}

// Named says the error with the text_column setting named by name.
func (e *ColumnError) Named(name func(key string) string) string {
	if e.Header != nil {
		return fmt.Sprintf("%s: the CSV header has no %q column (%s names it; header: %q)", e.Input, e.Column, name("text_column"), e.Header)
	}
	return fmt.Sprintf("%s line %d: no %q field (%s names it)", e.Input, e.Line, e.Column, name("text_column"))
}
