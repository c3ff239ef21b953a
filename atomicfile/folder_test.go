package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestWriteFolder: a folder appears whole, replaces an earlier one whole,
// and a failing writer leaves the earlier one as it was and nothing
// temporary beside it; a link or a file at the path is refused.
func TestWriteFolder(t *testing.T) {
	base := t.TempDir()
	path := filepath.Join(base, "out")
	files := func(names ...string) func(tmp string) error {
		return func(tmp string) error {
			for _, n := range names {
				if err := WriteFile(filepath.Join(tmp, n), func(w io.Writer) error { _, err := io.WriteString(w, n); return err }); err != nil {
					return err
				}
			}
			return nil
		}
	}
	list := func(dir string) []string {
		entries, _ := os.ReadDir(dir)
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	if err := WriteFolder(path, files("a", "b")); err != nil {
		t.Fatal(err)
	}
	if got := list(path); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("folder holds %v", got)
	}
	if err := WriteFolder(path, files("c")); err != nil {
		t.Fatal(err)
	}
	if got := list(path); !slices.Equal(got, []string{"c"}) {
		t.Fatalf("the replaced folder holds %v, want [c]", got)
	}
	err := WriteFolder(path, func(tmp string) error {
		files("d")(tmp)
		return errors.New("boom")
	})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v", err)
	}
	if got := list(path); !slices.Equal(got, []string{"c"}) {
		t.Fatalf("after a failed write the folder holds %v, want [c]", got)
	}
	if got := list(base); !slices.Equal(got, []string{"out"}) {
		t.Fatalf("%s holds %v: temporaries left", base, got)
	}
	link := filepath.Join(base, "link")
	os.Symlink(path, link)
	file := filepath.Join(base, "file")
	os.WriteFile(file, nil, 0o644)
	for _, p := range []string{link, file} {
		if err := WriteFolder(p, files("x")); !errors.Is(err, ErrRefused) {
			t.Errorf("%s: %v, want refused", p, err)
		}
	}
	if got := list(path); !slices.Equal(got, []string{"c"}) {
		t.Fatalf("the link's target holds %v", got)
	}
}
