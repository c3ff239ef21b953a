package metrics

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Mode says whether a monitored metric improves by going down or up.
type Mode string

const (
	Min Mode = "min" // losses, errors
	Max Mode = "max" // accuracy, F1, AUC
)

// Validate fails for anything but Min and Max.
func (m Mode) Validate() error {
	if m != Min && m != Max {
		return fmt.Errorf("mode %q, expected %q or %q", string(m), Min, Max)
	}
	return nil
}

// History is a table with one row per epoch and one column per named value
// ("epoch", "train/loss", "val/accuracy", "lr", "time_s", ...). Columns keep
// the order in which their names first appeared. A value an epoch did not
// record is NaN. The zero value is an empty history.
type History struct {
	columns []string
	index   map[string]int
	rows    [][]float64
}

// Append adds one epoch. Names not seen before become new columns, NaN in
// the earlier rows. A name given twice in one record is an error.
func (h *History) Append(record []Named) error {
	if h.index == nil {
		h.index = make(map[string]int)
	}
	seen := make(map[string]bool, len(record))
	for _, m := range record {
		if m.Name == "" {
			return fmt.Errorf("history: epoch %d: empty metric name", len(h.rows)+1)
		}
		if seen[m.Name] {
			return fmt.Errorf("history: epoch %d: metric %q given twice", len(h.rows)+1, m.Name)
		}
		seen[m.Name] = true
	}
	for _, m := range record {
		if _, ok := h.index[m.Name]; !ok {
			h.index[m.Name] = len(h.columns)
			h.columns = append(h.columns, m.Name)
		}
	}
	row := nanRow(len(h.columns))
	for _, m := range record {
		row[h.index[m.Name]] = m.Value
	}
	h.rows = append(h.rows, row)
	return nil
}

func nanRow(n int) []float64 {
	row := make([]float64, n)
	for i := range row {
		row[i] = math.NaN()
	}
	return row
}

// Len is the number of epochs recorded.
func (h *History) Len() int { return len(h.rows) }

// Columns returns the column names in order.
func (h *History) Columns() []string { return append([]string(nil), h.columns...) }

// Column returns the values of the named column, one per epoch, or nil when
// there is no such column.
func (h *History) Column(name string) []float64 {
	j, ok := h.index[name]
	if !ok {
		return nil
	}
	col := make([]float64, len(h.rows))
	for i := range h.rows {
		col[i] = h.value(i, j)
	}
	return col
}

// value reads a cell; rows appended before a column existed are shorter.
func (h *History) value(row, col int) float64 {
	if col < len(h.rows[row]) {
		return h.rows[row][col]
	}
	return math.NaN()
}

// Row returns epoch i (0-based) as named values in column order, NaN for
// values that epoch did not record.
func (h *History) Row(i int) []Named {
	out := make([]Named, len(h.columns))
	for j, name := range h.columns {
		out[j] = Named{name, h.value(i, j)}
	}
	return out
}

// Epoch is the epoch number of row i: its "epoch" value when that is
// recorded, i+1 otherwise.
func (h *History) Epoch(i int) int {
	if j, ok := h.index["epoch"]; ok {
		if v := h.value(i, j); !math.IsNaN(v) {
			return int(v)
		}
	}
	return i + 1
}

// Best returns the epoch (see Epoch) and value of the lowest (Min) or
// highest (Max) value of the named column, the earliest on ties. NaN values
// are skipped. It fails for an unknown column or mode and when the column
// has no value.
func (h *History) Best(name string, mode Mode) (epoch int, value float64, err error) {
	if err := mode.Validate(); err != nil {
		return 0, math.NaN(), fmt.Errorf("history: best %s: %w", name, err)
	}
	col := h.Column(name)
	if col == nil {
		return 0, math.NaN(), fmt.Errorf("history: no column %q (have %s)", name, strings.Join(h.columns, ", "))
	}
	best := -1
	for i, v := range col {
		if math.IsNaN(v) {
			continue
		}
		if best < 0 || (mode == Min && v < col[best]) || (mode == Max && v > col[best]) {
			best = i
		}
	}
	if best < 0 {
		return 0, math.NaN(), fmt.Errorf("history: column %q has no value", name)
	}
	return h.Epoch(best), col[best], nil
}

// WriteCSV writes a header of column names and one line per epoch. Numbers
// use the shortest representation that reads back to the same float64; a
// missing value is an empty cell and infinities are "inf" and "-inf", which
// pandas.read_csv reads back.
func (h *History) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(h.columns); err != nil {
		return fmt.Errorf("history: write CSV: %w", err)
	}
	line := make([]string, len(h.columns))
	for i := range h.rows {
		for j := range h.columns {
			line[j] = formatCSV(h.value(i, j))
		}
		if err := cw.Write(line); err != nil {
			return fmt.Errorf("history: write CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("history: write CSV: %w", err)
	}
	return nil
}

func formatCSV(v float64) string {
	switch {
	case math.IsNaN(v):
		return ""
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// historyJSON is the JSON form: {"columns": [...], "rows": [[...], ...]}.
// JSON has no NaN or infinities, so a missing value is null and infinities
// are the strings "inf" and "-inf".
type historyJSON struct {
	Columns []string            `json:"columns"`
	Rows    [][]json.RawMessage `json:"rows"`
}

// MarshalJSON writes {"columns": [...], "rows": [[...], ...]}, with null for
// a missing value and "inf"/"-inf" for infinities.
func (h *History) MarshalJSON() ([]byte, error) {
	out := historyJSON{Columns: h.Columns(), Rows: make([][]json.RawMessage, len(h.rows))}
	if out.Columns == nil {
		out.Columns = []string{}
	}
	for i := range h.rows {
		row := make([]json.RawMessage, len(h.columns))
		for j := range h.columns {
			row[j] = jsonNumber(h.value(i, j))
		}
		out.Rows[i] = row
	}
	return json.Marshal(out)
}

func jsonNumber(v float64) json.RawMessage {
	switch {
	case math.IsNaN(v):
		return json.RawMessage("null")
	case math.IsInf(v, 1):
		return json.RawMessage(`"inf"`)
	case math.IsInf(v, -1):
		return json.RawMessage(`"-inf"`)
	}
	return json.RawMessage(strconv.FormatFloat(v, 'g', -1, 64))
}

// UnmarshalJSON reads what MarshalJSON writes, checking that column names
// are unique and non-empty and that every row has one value per column.
func (h *History) UnmarshalJSON(data []byte) error {
	var in historyJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	var out History
	out.index = make(map[string]int, len(in.Columns))
	for j, name := range in.Columns {
		if name == "" {
			return fmt.Errorf("history: column %d has an empty name", j)
		}
		if _, dup := out.index[name]; dup {
			return fmt.Errorf("history: column %q appears twice", name)
		}
		out.index[name] = j
	}
	out.columns = append([]string(nil), in.Columns...)
	for i, raw := range in.Rows {
		if len(raw) != len(in.Columns) {
			return fmt.Errorf("history: row %d has %d values, expected %d (one per column)", i, len(raw), len(in.Columns))
		}
		row := make([]float64, len(raw))
		for j, r := range raw {
			v, err := parseJSONNumber(r)
			if err != nil {
				return fmt.Errorf("history: row %d, column %q: %w", i, in.Columns[j], err)
			}
			row[j] = v
		}
		out.rows = append(out.rows, row)
	}
	*h = out
	return nil
}

func parseJSONNumber(r json.RawMessage) (float64, error) {
	r = bytes.TrimSpace(r)
	switch string(r) {
	case "null":
		return math.NaN(), nil
	case `"inf"`:
		return math.Inf(1), nil
	case `"-inf"`:
		return math.Inf(-1), nil
	}
	var v float64
	if err := json.Unmarshal(r, &v); err != nil {
		return 0, fmt.Errorf("value %s, expected a number, null, \"inf\" or \"-inf\"", r)
	}
	return v, nil
}
