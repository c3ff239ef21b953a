package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The rules of what a writer may replace, in one place for every writer
// (export, checkpoint saves, int8 checkpoints, imports, explanation pages,
// plots): an output never replaces
//   - a device, FIFO, socket or symbolic link (even when asked to: a rename
//     over /dev/null would replace the device);
//   - a directory where a file goes, or a file where a folder goes;
//   - a folder that is not the writer's kind of output (a checkpoint
//     writer's: a checkpoint);
//   - one of the inputs it is made from, or anything inside or around one;
//   - anything inside a protected folder (Protect: a checkpoint, whose
//     files its meta.json lists; export --out runs/x/best/model.safetensors
//     would replace a checkpoint's weights);
//   - an existing output of its own kind, unless the caller says Replace.

// ErrRefused matches (errors.Is) every refusal of an output path, both
// RefusedError and ExistsError.
var ErrRefused = errors.New("refused output path")

// RefusedError is an output path no writer may replace.
type RefusedError struct {
	Path   string
	Reason string // "is a device", "is inside the input runs/x/best", …
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("%s %s; refusing to write there", e.Path, e.Reason)
}

// Is makes errors.Is(err, ErrRefused) hold.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// ExistsError is an output path that holds an output of the writer's own
// kind (a file, a checkpoint), which the writer replaces only when its
// caller allows it (the "force" setting).
type ExistsError struct {
	Path string
	What string // "a file", "a checkpoint"
}

func (e *ExistsError) Error() string {
	return e.Named(func(key string) string { return "the " + key + " setting" })
}

// Named says the error with the setting that allows replacing named by
// name (a command line says its flag).
func (e *ExistsError) Named(name func(key string) string) string {
	return fmt.Sprintf("%s exists (%s); refusing to replace it without %s", e.Path, e.What, name("force"))
}

// Is makes errors.Is(err, ErrRefused) and errors.Is(err, ErrExists) hold.
func (e *ExistsError) Is(target error) bool { return target == ErrRefused || target == ErrExists }

// protected are the kinds of folders no output is written into.
var protected []struct {
	what string
	is   func(dir string) bool
}

// Protect registers a kind of folder (what: "a checkpoint") that outputs
// are never written into: CheckFile and CheckFolder refuse a path inside
// a folder for which is reports true. Its own writer builds such a folder
// as a temporary one and renames it into place. Call it from an init
// function; package checkpoint registers checkpoint folders.
func Protect(what string, is func(dir string) bool) {
	protected = append(protected, struct {
		what string
		is   func(dir string) bool
	}{what, is})
}

// checkProtected refuses a path inside a protected folder: any of its
// parent folders, with links resolved.
func checkProtected(path string) error {
	r := resolved(path)
	for dir := filepath.Dir(r); ; dir = filepath.Dir(dir) {
		for _, p := range protected {
			if p.is(dir) {
				return &RefusedError{path, "is inside " + p.what + " (" + dir + ")"}
			}
		}
		if dir == filepath.Dir(dir) {
			return nil
		}
	}
}

// isProtected says what protected folder dir is, or "".
func isProtected(dir string) string {
	for _, p := range protected {
		if p.is(dir) {
			return p.what
		}
	}
	return ""
}

// CheckFile reports whether a file may be written at path: a missing path,
// or with replace an existing regular file; never a special file, a
// symbolic link or a directory, never one of inputs or a path inside one
// of them (inputs are the files and folders the output is made from), and
// never a path inside a protected folder.
func CheckFile(path string, replace bool, inputs ...string) error {
	if err := checkInputs(path, inputs); err != nil {
		return err
	}
	if err := checkProtected(path); err != nil {
		return err
	}
	exists, err := replaceable(path)
	if err == nil && exists && !replace {
		return &ExistsError{path, "a file"}
	}
	return err
}

// CheckFolder reports whether a folder output (a checkpoint) may be
// written at path: a missing path or an empty directory; with replace, a
// directory that ours says is one of the writer's outputs; never a
// special file, a symbolic link, a regular file or a folder ours does not
// recognise, never a folder that is, lies in or holds one of inputs, and
// never a path inside a protected folder. what names the output ("a
// checkpoint") in errors. A nil ours accepts any existing directory but a
// protected one as a place to add files to (a folder of explanation
// pages, each checked with CheckFile).
func CheckFolder(path, what string, replace bool, ours func(dir string) bool, inputs ...string) error {
	if err := checkInputs(path, inputs); err != nil {
		return err
	}
	if err := checkProtected(path); err != nil {
		return err
	}
	info, err := present(path)
	if err != nil || info == nil {
		return err
	}
	if !info.IsDir() {
		return &RefusedError{path, "is a file (a folder goes there)"}
	}
	if ours == nil {
		if what := isProtected(path); what != "" {
			return &RefusedError{path, "is " + what + "; give a folder of its own"}
		}
		return nil
	}
	if ours(path) {
		if !replace {
			return &ExistsError{path, what}
		}
		return nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return &RefusedError{path, "exists, is not empty and is not " + what}
	}
	return nil
}

// present is what is at an output path: nil for nothing, a RefusedError
// for a special file or a symbolic link.
func present(path string) (fs.FileInfo, error) {
	info, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if reason := special(info); reason != "" {
		return nil, &RefusedError{path, reason}
	}
	return info, nil
}

// special says what a path that is neither a regular file nor a directory
// is, or "" when it is one of those.
func special(info fs.FileInfo) string {
	switch m := info.Mode(); {
	case m&fs.ModeSymlink != 0:
		return "is a symbolic link"
	case m&fs.ModeDevice != 0, m&fs.ModeCharDevice != 0:
		return "is a device"
	case m&fs.ModeNamedPipe != 0:
		return "is a FIFO (named pipe)"
	case m&fs.ModeSocket != 0:
		return "is a socket"
	case !m.IsRegular() && !m.IsDir():
		return "is a special file (" + m.Type().String() + ")"
	}
	return ""
}

// checkInputs refuses an output that is one of inputs, lies inside one or
// holds one, comparing paths with symbolic links resolved (and files by
// identity, for hard links).
func checkInputs(path string, inputs []string) error {
	if len(inputs) == 0 {
		return nil
	}
	out := resolved(path)
	outInfo, outErr := os.Stat(path)
	for _, in := range inputs {
		if in == "" {
			continue
		}
		r := resolved(in)
		switch {
		case r == out:
			return &RefusedError{path, "is the input " + in}
		case within(out, r):
			return &RefusedError{path, "is inside the input " + in}
		case within(r, out):
			return &RefusedError{path, "holds the input " + in}
		}
		if inInfo, err := os.Stat(in); outErr == nil && err == nil && os.SameFile(outInfo, inInfo) {
			return &RefusedError{path, "is the input " + in + " (a link to it)"}
		}
	}
	return nil
}

// within reports whether path lies strictly inside dir (both clean and
// absolute).
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// resolved is path made absolute with the symbolic links of its longest
// existing prefix resolved; the missing rest is appended as given.
func resolved(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	rest := ""
	for dir := abs; ; dir = filepath.Dir(dir) {
		if r, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(r, rest)
		}
		if dir == filepath.Dir(dir) {
			return abs
		}
		rest = filepath.Join(filepath.Base(dir), rest)
	}
}
