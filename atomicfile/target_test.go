//go:build unix

package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// WriteFile never renames over a FIFO, a symbolic link (to /dev/null or a
// file) or a directory: `tapeml export --out /dev/null` replaced the
// device with a regular file (issue 28, point 6).
func TestWriteFileRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	kept := filepath.Join(dir, "kept")
	if err := os.WriteFile(kept, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	toFile, toNull := filepath.Join(dir, "to-file"), filepath.Join(dir, "to-null")
	if err := os.Symlink(kept, toFile); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(os.DevNull, toNull); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		fifo:   "is a FIFO (named pipe)",
		toFile: "is a symbolic link",
		toNull: "is a symbolic link",
		sub:    "is a directory",
	} {
		before, _ := os.Lstat(path)
		err := WriteFile(path, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err })
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want a refusal naming it and saying %q", path, err, want)
		}
		if after, _ := os.Lstat(path); after.Mode() != before.Mode() || !os.SameFile(before, after) {
			t.Errorf("%s was replaced", path)
		}
	}
	if b, _ := os.ReadFile(kept); string(b) != "keep me" {
		t.Errorf("the link's target holds %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 5 {
		t.Errorf("%d entries left, want the 5 made", len(entries))
	}
}

func TestCheckFileAndFolder(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "ckpt")
	mk := func(path, body string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mk(filepath.Join(in, "manifest"), "{}")
	mk(filepath.Join(dir, "other", "manifest"), "{}")
	mk(filepath.Join(dir, "notes", "todo.txt"), "")
	mk(filepath.Join(dir, "file"), "")
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(in, filepath.Join(dir, "in-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(in, "manifest"), filepath.Join(dir, "hard")); err != nil {
		t.Fatal(err)
	}
	ours := func(d string) bool { _, err := os.Stat(filepath.Join(d, "manifest")); return err == nil }
	p := func(rel string) string { return filepath.Join(dir, rel) }
	exists := "exists"
	for _, tc := range []struct {
		name    string
		err     error
		want    string // "" = allowed
		replace bool
	}{
		{"new file", CheckFile(p("new.bin"), false, in), "", false},
		{"existing file", CheckFile(p("file"), false, in), exists, false},
		{"existing file, replace", CheckFile(p("file"), true, in), "", true},
		{"directory for a file", CheckFile(p("empty"), true), "is a directory", true},
		{"inside the input", CheckFile(p("ckpt/weights"), true, in), "is inside the input", true},
		{"inside the input through a link", CheckFile(p("in-link/weights"), true, in), "is inside the input", true},
		{"the input", CheckFile(p("ckpt"), true, in), "is the input", true},
		{"a hard link to an input", CheckFile(p("hard"), true, p("ckpt/manifest")), "a link to it", true},
		{"new folder", CheckFolder(p("out"), "a checkpoint", false, ours, in), "", false},
		{"empty folder", CheckFolder(p("empty"), "a checkpoint", false, ours, in), "", false},
		{"existing checkpoint", CheckFolder(p("other"), "a checkpoint", false, ours, in), "exists (a checkpoint); refusing to replace it without the force setting", false},
		{"existing checkpoint, replace", CheckFolder(p("other"), "a checkpoint", true, ours, in), "", true},
		{"user folder", CheckFolder(p("notes"), "a checkpoint", true, ours, in), "is not empty and is not a checkpoint", true},
		{"file for a folder", CheckFolder(p("file"), "a checkpoint", true, ours, in), "is a file", true},
		{"folder holding the input", CheckFolder(dir, "a checkpoint", true, ours, in), "holds the input", true},
		{"link to a folder", CheckFolder(p("in-link"), "a checkpoint", true, ours), "is a symbolic link", true},
		{"folder of pages", CheckFolder(p("notes"), "", true, nil, in), "", true},
	} {
		switch {
		case tc.want == "" && tc.err != nil:
			t.Errorf("%s: %v, want allowed", tc.name, tc.err)
		case tc.want != "" && (!errors.Is(tc.err, ErrRefused) || !strings.Contains(tc.err.Error(), tc.want)):
			t.Errorf("%s: %v, want a refusal saying %q", tc.name, tc.err, tc.want)
		}
		var ee *ExistsError
		if errors.As(tc.err, &ee) != (tc.want == exists || strings.HasPrefix(tc.want, "exists (")) {
			t.Errorf("%s: ExistsError %v", tc.name, tc.err)
		}
	}
}

// A folder registered with Protect receives no output, and is not a
// folder of pages either.
func TestProtect(t *testing.T) {
	dir := t.TempDir()
	guarded := filepath.Join(dir, "guarded")
	if err := os.MkdirAll(filepath.Join(guarded, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	saved := protected
	defer func() { protected = saved }()
	Protect("a guarded folder", func(d string) bool { return filepath.Base(d) == "guarded" })
	for _, err := range []error{
		CheckFile(filepath.Join(guarded, "x"), true),
		CheckFile(filepath.Join(guarded, "sub", "x"), true),
		CheckFolder(filepath.Join(guarded, "sub", "y"), "a checkpoint", true, nil),
	} {
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "is inside a guarded folder") {
			t.Errorf("%v, want a refusal", err)
		}
	}
	if err := CheckFolder(guarded, "", true, nil); err == nil || !strings.Contains(err.Error(), "is a guarded folder; give a folder of its own") {
		t.Errorf("%v", err)
	}
}

// RemoveTemporaries removes the temporary file of a write in progress; the
// write then fails and leaves the target as it was.
func TestRemoveTemporaries(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	var removed []string
	err := WriteFile(path, func(w io.Writer) error {
		io.WriteString(w, "new")
		removed = RemoveTemporaries()
		return nil
	})
	if err == nil || len(removed) != 1 || !strings.HasPrefix(filepath.Base(removed[0]), ".out.tmp-") {
		t.Fatalf("write: %v; removed %v", err, removed)
	}
	if entries, _ := os.ReadDir(dir); !slices.EqualFunc(entries, []string{"out"}, func(e os.DirEntry, n string) bool { return e.Name() == n }) {
		t.Errorf("left %v", entries)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("target holds %q", b)
	}
	if again := RemoveTemporaries(); len(again) != 0 {
		t.Errorf("still tracked: %v", again)
	}
}
