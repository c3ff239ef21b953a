//go:build unix

package recsys

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tapeml/tapeml/internal/safeio"
)

// An item file must be a regular file (train recsys --items opened a FIFO
// and waited forever, and read /dev/zero without end), and its lines and
// CSV records are bounded.
func TestReadItemsHostile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "movies.csv")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	zero := filepath.Join(dir, "zero.dat")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{fifo: "is a FIFO", zero: "is a device"} {
		done := make(chan error, 1)
		go func() { _, err := ReadItems(path, ""); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
				t.Errorf("%s: %v, want an error naming it and saying %q", path, err, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: ReadItems blocked", path)
		}
	}
	defer func(was int) { MaxItemLine = was }(MaxItemLine)
	MaxItemLine = 64 << 10
	for name, r := range map[string]io.Reader{
		"endless quoted title":  io.MultiReader(strings.NewReader("movieId,title\n1,\""), repeat('x')),
		"endless quoted lines":  io.MultiReader(strings.NewReader("movieId,title\n1,\""), repeat('\n')),
		"endless unquoted line": io.MultiReader(strings.NewReader("movieId,title\n1,"), repeat('x')),
	} {
		_, err := ParseItems(r, "movies.csv", MoviesCSV)
		if !errors.Is(err, safeio.ErrTooLarge) || !strings.Contains(err.Error(), "movies.csv") {
			t.Errorf("%s: %v, want a size error naming the file", name, err)
		}
	}
}

// repeat is an endless stream of one byte.
type repeat byte

func (b repeat) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}
