//go:build unix && hostile

package main

// Full-size reproductions of hostile inputs, a few seconds each:
//
//	go test ./cmd/tapeml -tags hostile -run Bounded -v

import (
	"bytes"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tapeml/tapeml/predictio"
)

// One quoted CSV field on stdin that never ends (1 GiB of it, generated
// as it is read) stops at predictio.MaxLine with bounded memory, instead
// of growing without limit; so does one quoted field spanning endless
// lines (issue 28, point 8).
func TestPredictCSVRecordIsBounded(t *testing.T) {
	for name, tail := range map[string]byte{"one line": 'x', "many lines": '\n'} {
		t.Run(name, func(t *testing.T) {
			const size = 1 << 30
			in := &countingReader{r: io.MultiReader(strings.NewReader("id,text\n1,ok\n2,\""), io.LimitReader(endlessByte(tail), size))}
			var peak uint64
			stop, sampled := make(chan struct{}), make(chan struct{})
			go func() {
				defer close(sampled)
				var ms runtime.MemStats
				for {
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapAlloc)
					select {
					case <-stop:
						return
					case <-time.After(10 * time.Millisecond):
					}
				}
			}()
			var stdout, stderr bytes.Buffer
			status := runEnv([]string{"predict", "--checkpoint", legacyTextCNN, "--input-format", "csv"}, env{stdin: in, stdout: &stdout, stderr: &stderr})
			close(stop)
			<-sampled
			if status != exitFailed || !strings.Contains(stderr.String(), "stdin: the CSV record after line 2 is longer than 64 MiB") {
				t.Fatalf("status %d, stderr %q", status, stderr.String())
			}
			if strings.Count(stdout.String(), "\n") != 1 {
				t.Errorf("the record before it was not answered: %q", stdout.String())
			}
			if limit := int64(predictio.MaxLine) + 4<<20; in.n > limit {
				t.Errorf("read %d bytes of stdin, more than %d", in.n, limit)
			}
			t.Logf("read %.1f MiB of the 1 GiB field; peak heap %.0f MiB", float64(in.n)/(1<<20), float64(peak)/(1<<20))
			if peak > 400<<20 {
				t.Errorf("peak heap %.0f MiB", float64(peak)/(1<<20))
			}
		})
	}
}

// endlessByte is an endless stream of one byte.
type endlessByte byte

func (b endlessByte) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
