// Package safeio reads files that may be hostile: only regular files (a
// symlink is followed, but its target must be a regular file too, so a FIFO
// or a device behind a link is refused instead of blocking or streaming
// forever), never more bytes than the caller's limit, and gzip streams
// inflated only up to a limit, so a small file cannot claim gigabytes.
package safeio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrTooLarge matches (errors.Is) every error about a limit being
// exceeded.
var ErrTooLarge = errors.New("over the size limit")

// TooLargef returns an error with the formatted message that matches
// ErrTooLarge.
func TooLargef(format string, args ...any) error {
	return tooLarge{fmt.Sprintf(format, args...)}
}

type tooLarge struct{ msg string }

func (e tooLarge) Error() string        { return e.msg }
func (e tooLarge) Is(target error) bool { return target == ErrTooLarge }

// ErrNotRegular is wrapped by the error for FIFOs, devices, sockets and
// directories.
var ErrNotRegular = errors.New("not a regular file")

// CheckRegular returns an error unless info describes a regular file.
func CheckRegular(info fs.FileInfo) error {
	if info.Mode().IsRegular() {
		return nil
	}
	what := "a directory"
	switch m := info.Mode(); {
	case m&fs.ModeNamedPipe != 0:
		what = "a FIFO (named pipe)"
	case m&fs.ModeDevice != 0, m&fs.ModeCharDevice != 0:
		what = "a device"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	case m&fs.ModeSymlink != 0:
		what = "a symbolic link"
	case m.IsDir():
	default:
		what = "a special file (" + m.Type().String() + ")"
	}
	return fmt.Errorf("is %s, %w", what, ErrNotRegular)
}

// Open opens path for reading if it is a regular file (after following
// symlinks) of at most max bytes (max < 0: no limit). The open does not
// block on a FIFO swapped in after the check (openFlags holds O_NONBLOCK
// where the platform has it), and the opened file is checked again.
// Errors are *fs.PathError-free: "PATH: reason".
func Open(path string, max int64) (*os.File, int64, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, 0, err
	}
	if err := CheckRegular(info); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, 0, err
	}
	if info, err = f.Stat(); err != nil {
		f.Close()
		return nil, 0, err
	}
	if err := CheckRegular(info); err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	if max >= 0 && info.Size() > max {
		f.Close()
		return nil, 0, TooLargef("%s: %d bytes, more than the %d-byte limit", path, info.Size(), max)
	}
	return f, info.Size(), nil
}

// ReadFile reads the regular file at path, at most max bytes (max < 0: no
// limit). A file that grows past max while being read is an error too.
func ReadFile(path string, max int64) ([]byte, error) {
	f, size, err := Open(path, max)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := ReadAll(f, size, max)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// ReadFS is ReadFile for a file system: name must be a regular file of at
// most max bytes (max < 0: no limit).
func ReadFS(fsys fs.FS, name string, max int64) ([]byte, error) {
	info, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if err := CheckRegular(info); err != nil {
		return nil, err
	}
	if max >= 0 && info.Size() > max {
		return nil, TooLargef("%d bytes, more than the %d-byte limit", info.Size(), max)
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := CheckRegular(info); err != nil {
		return nil, err
	}
	return ReadAll(f, info.Size(), max)
}

// ReadAll reads r to its end; hint is the expected size (to allocate once)
// and limit the most it accepts (limit < 0: no limit). Up to a trusted
// hint, bytes go into one buffer; beyond it, into chunks joined at the
// end, so that a stream that turns out too large is dropped without
// having been copied into ever larger buffers (whose garbage would
// multiply the peak memory).
func ReadAll(r io.Reader, hint, limit int64) ([]byte, error) {
	if limit >= 0 {
		hint = min(hint, limit)
		r = io.LimitReader(r, limit+1)
	}
	// A hint is a claim, not a fact: preallocate at most 64 MiB for it.
	first := make([]byte, 0, min(max(hint, 0), 64<<20)+1)
	chunks := [][]byte{first}
	total := int64(0)
	for {
		cur := &chunks[len(chunks)-1]
		if len(*cur) == cap(*cur) {
			// Next chunk: as large as what was read so far, within 1 KiB
			// and 64 MiB.
			chunks = append(chunks, make([]byte, 0, min(max(total, 1<<10), 64<<20)))
			cur = &chunks[len(chunks)-1]
		}
		n, err := r.Read((*cur)[len(*cur):cap(*cur)])
		*cur = (*cur)[:len(*cur)+n]
		total += int64(n)
		if limit >= 0 && total > limit {
			return nil, TooLargef("more than the %d-byte limit", limit)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if len(chunks) == 1 {
		return chunks[0], nil
	}
	out := make([]byte, 0, total)
	for i, c := range chunks {
		out = append(out, c...)
		chunks[i] = nil // let the chunk go while the rest is copied
	}
	return out, nil
}

// IsGzip reports whether b starts with the gzip magic number.
func IsGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

// LimitedReader returns a reader of r that fails with an ErrTooLarge error
// once more than max bytes have been read through it, for streams (a tar
// inside gzip) that are consumed piecewise.
func LimitedReader(r io.Reader, max int64, what string) io.Reader {
	return &limited{r: r, left: max, max: max, what: what}
}

type limited struct {
	r         io.Reader
	left, max int64
	what      string
}

func (l *limited) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, TooLargef("%s: more than the %d-byte limit", l.what, l.max)
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n, TooLargef("%s: more than the %d-byte limit", l.what, l.max)
	}
	return n, err
}

// Records wraps a reader for a parser of records (encoding/csv), so that
// one record (a CSV row, whose quoted fields may hold any number of
// lines) cannot grow without limit: Read fails with an ErrTooLarge error
// once more than max bytes, plus the parser's read-ahead (RecordSlack),
// have been read since the end of the last complete record, which the
// caller reports with Mark (csv.Reader.InputOffset after each Read).
type Records struct {
	r          io.Reader
	read, mark int64
	max        int64
}

// RecordSlack is what Records allows beyond a record's limit: the
// read-ahead of the parser's buffer (at most 1 MiB).
const RecordSlack = 1 << 20

// NewRecords returns a Records reading r with records of at most max
// bytes.
func NewRecords(r io.Reader, max int64) *Records { return &Records{r: r, max: max} }

// Mark says that the records before offset (bytes from the start of the
// stream) are complete.
func (l *Records) Mark(offset int64) { l.mark = offset }

// Max is the limit on one record.
func (l *Records) Max() int64 { return l.max }

func (l *Records) Read(p []byte) (int, error) {
	left := l.mark + l.max + RecordSlack - l.read
	if left <= 0 {
		return 0, TooLargef("a record is longer than the %d-byte limit", l.max)
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := l.r.Read(p)
	l.read += int64(n)
	return n, err
}
