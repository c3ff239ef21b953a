//go:build unix

package atomicfile

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestWriteNew(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) func(io.Writer) error {
		return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
	}
	path := filepath.Join(dir, "roc.csv")
	if err := WriteNew(path, false, write("one")); err != nil {
		t.Fatal(err)
	}
	if err := WriteNew(path, false, write("two")); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), path) {
		t.Fatalf("an existing file without replace: %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "one" {
		t.Fatalf("refused write changed the file to %q", got)
	}
	if err := WriteNew(path, true, write("three")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "three" {
		t.Fatalf("replaced file holds %q", got)
	}

	// What is not a regular file is refused, replace or not, and left as
	// it is.
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("keep"), 0o644)
	link := filepath.Join(dir, "link.png")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	special := map[string]string{link: "symbolic link", sub: "directory"}
	if fifo := filepath.Join(dir, "fifo"); syscall.Mkfifo(fifo, 0o644) == nil {
		special[fifo] = "FIFO"
	}
	if l, err := net.Listen("unix", filepath.Join(dir, "sock")); err == nil {
		defer l.Close()
		special[filepath.Join(dir, "sock")] = "socket"
	}
	for p, what := range special {
		for _, replace := range []bool{false, true} {
			err := WriteNew(p, replace, write("x"))
			if err == nil || !strings.Contains(err.Error(), what) || !strings.Contains(err.Error(), "refusing") {
				t.Errorf("%s (replace %v): %v, want a refusal naming a %s", p, replace, err, what)
			}
		}
	}
	if got, _ := os.ReadFile(target); string(got) != "keep" {
		t.Errorf("the symlink's target became %q", got)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the symlink was replaced")
	}
	if err := WriteNew(filepath.Join(dir, "bad"), false, func(io.Writer) error { return errors.New("boom") }); err == nil {
		t.Error("a failing writer succeeded")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") || e.Name() == "bad" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}
