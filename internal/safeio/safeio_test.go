//go:build unix

package safeio

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReadFileRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	linkFifo := filepath.Join(dir, "link-to-fifo")
	linkDev := filepath.Join(dir, "link-to-zero")
	if err := os.Symlink(fifo, linkFifo); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", linkDev); err != nil {
		t.Fatal(err)
	}
	regular := filepath.Join(dir, "ok")
	if err := os.WriteFile(regular, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	linkOK := filepath.Join(dir, "link-to-ok")
	if err := os.Symlink(regular, linkOK); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		max  int64
		want string // "" = no error
	}{
		{fifo, -1, "is a FIFO (named pipe)"},
		{linkFifo, -1, "is a FIFO (named pipe)"},
		{linkDev, 1 << 20, "is a device"},
		{"/dev/zero", -1, "is a device"},
		{dir, -1, "is a directory"},
		{regular, 4, "5 bytes, more than the 4-byte limit"},
		{regular, 5, ""},
		{linkOK, -1, ""},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			done := make(chan error, 1)
			go func() { _, err := ReadFile(tc.path, tc.max); done <- err }()
			select {
			case err := <-done:
				if tc.want == "" {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
					t.Fatalf("got %v, want an error naming %s and containing %q", err, tc.path, tc.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("ReadFile blocked")
			}
		})
	}
}

func TestLimitedReader(t *testing.T) {
	r := LimitedReader(strings.NewReader("abcdef"), 3, "stream")
	var buf bytes.Buffer
	_, err := buf.ReadFrom(r)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "stream") {
		t.Fatalf("got %v", err)
	}
	r = LimitedReader(strings.NewReader("abc"), 3, "stream")
	buf.Reset()
	if _, err := buf.ReadFrom(r); err != nil || buf.String() != "abc" {
		t.Fatalf("at the limit: %q %v", buf.String(), err)
	}
}

func TestReadAllChunks(t *testing.T) {
	want := make([]byte, 5<<20+123)
	for i := range want {
		want[i] = byte(i * 7 / 3)
	}
	for _, hint := range []int64{0, 1000, int64(len(want)), 1 << 40} {
		got, err := ReadAll(iotestHalf{bytes.NewReader(want)}, hint, -1)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("hint %d: %d bytes, %v", hint, len(got), err)
		}
		if _, err := ReadAll(bytes.NewReader(want), hint, int64(len(want))-1); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("hint %d, one byte over: %v", hint, err)
		}
	}
}

// iotestHalf returns at most half of what is asked for, to exercise
// partial reads.
type iotestHalf struct{ r *bytes.Reader }

func (h iotestHalf) Read(p []byte) (int, error) { return h.r.Read(p[:max(1, len(p)/2)]) }

// A CSV record whose quoted field never ends stops at the limit, whether
// it is one line or many; records of any number within the limit pass.
func TestRecordsBoundCSV(t *testing.T) {
	const max = 1 << 10
	read := func(input io.Reader) (int, error) {
		rec := NewRecords(input, max)
		cr := csv.NewReader(bufio.NewReaderSize(rec, 4096))
		n := 0
		for {
			_, err := cr.Read()
			if err == io.EOF {
				return n, nil
			}
			if err != nil {
				return n, err
			}
			n++
			rec.Mark(cr.InputOffset())
		}
	}
	var many strings.Builder
	for range 10000 {
		many.WriteString(`a,"` + strings.Repeat("x", 500) + "\"\n")
	}
	if n, err := read(strings.NewReader(many.String())); err != nil || n != 10000 {
		t.Fatalf("%d records, %v", n, err)
	}
	for name, r := range map[string]io.Reader{
		"one line":   io.MultiReader(strings.NewReader(`a,"`), endless{'x'}),
		"many lines": io.MultiReader(strings.NewReader("text\nok\n\""), endless{'\n'}),
	} {
		n, err := read(r)
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: %d records, %v; want ErrTooLarge", name, n, err)
		}
	}
}

// endless repeats one byte forever.
type endless struct{ b byte }

func (e endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = e.b
	}
	return len(p), nil
}
