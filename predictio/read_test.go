package predictio

import (
	"io"
	"strings"
	"testing"
)

// A CSV record that never ends — one quoted field on one line, or
// spanning endless lines — stops at the record limit with an error naming
// where, after the records before it were sent (issue 28, point 8: one
// quoted field grew without limit). TestPredictCSVRecordIsBounded in
// cmd/tapeml (build tag hostile) does it at MaxLine with 1 GiB of input.
func TestReadCSVBoundsRecords(t *testing.T) {
	const limit = 2 << 20
	for name, tail := range map[string]byte{"one line": 'x', "many lines": '\n'} {
		t.Run(name, func(t *testing.T) {
			in := &counted{r: io.MultiReader(strings.NewReader("id,text\n1,ok\n2,\""), io.LimitReader(endless(tail), 1<<30))}
			var got []Record
			err := readCSV(in, "stdin", "text", limit, func(r Record) error { got = append(got, r); return nil })
			if err == nil || !strings.Contains(err.Error(), "stdin: the CSV record after line 2 is longer than 2 MiB") {
				t.Fatalf("error %v", err)
			}
			if len(got) != 1 || got[0].Text != "ok" {
				t.Errorf("sent %v", got)
			}
			if in.n > limit+2<<20 {
				t.Errorf("read %d bytes", in.n)
			}
		})
	}
	var got []Record
	text := "id,text\n1,\"two\nlines\"\n2," + strings.Repeat("y", limit-100) + "\n"
	if err := readCSV(strings.NewReader(text), "stdin", "text", limit, func(r Record) error { got = append(got, r); return nil }); err != nil || len(got) != 2 || got[1].Line != 4 {
		t.Fatalf("%v, %d records", err, len(got))
	}
}

type endless byte

func (b endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

type counted struct {
	r io.Reader
	n int64
}

func (c *counted) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
