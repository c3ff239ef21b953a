package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.bin")
	write := func(s string) func(io.Writer) error {
		return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
	}
	if err := WriteFile(path, write("first")); err != nil {
		t.Fatal(err)
	}
	// A failing writer leaves the previous file as it was and no temporary file.
	err := WriteFile(path, func(w io.Writer) error {
		io.WriteString(w, "partial")
		return errors.New("boom")
	})
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("error %v should name %s and the cause", err, path)
	}
	if got, _ := os.ReadFile(path); string(got) != "first" {
		t.Fatalf("after a failed write the file holds %q, want %q", got, "first")
	}
	if err := WriteFile(path, write("second")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "second" {
		t.Fatalf("file holds %q, want %q", got, "second")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v, want 0644", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want only out.bin", len(entries))
	}
	// An unwritable place is an error naming the path.
	bad := filepath.Join(dir, "missing", "out.bin")
	if err := WriteFile(bad, write("x")); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("error %v should name %s", err, bad)
	}
}
