package imagedata

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/tapeml/tapeml/internal/safeio"
)

// IDX is the format of MNIST and Fashion-MNIST: a magic number 0x000008NN
// (0x08: unsigned bytes; NN: the number of dimensions), one big-endian
// uint32 per dimension, then the data. Images are 0x00000803 (N×H×W),
// labels 0x00000801 (N).
const (
	idxImagesMagic = 0x00000803
	idxLabelsMagic = 0x00000801
)

// idxNames are the file names tried for a split, in order: the names
// yann.lecun.com, Zalando, Keras and torchvision use, gzip-compressed or
// not (the content, not the name, tells which).
func idxNames(split, kind string) []string {
	var names []string
	for _, sep := range []string{"-", "."} {
		base := split + "-" + kind + sep + map[string]string{"images": "idx3-ubyte", "labels": "idx1-ubyte"}[kind]
		names = append(names, base, base+".gz")
	}
	return names
}

// idxSplits maps a split to its file prefixes.
var idxSplits = map[string][]string{"train": {"train"}, "test": {"t10k", "test"}}

// findIDX returns the first of a split's images files present in dir, or "".
func findIDX(src source, split, kind string) string {
	for _, prefix := range idxSplits[split] {
		for _, name := range idxNames(prefix, kind) {
			if src.exists(name) {
				return name
			}
		}
	}
	return ""
}

// readIDXSplit reads a split's images and labels files.
func readIDXSplit(src source, split string) (*Images, error) {
	imagesName := findIDX(src, split, "images")
	if imagesName == "" {
		return nil, nil
	}
	labelsName := findIDX(src, split, "labels")
	if labelsName == "" {
		want := strings.Replace(strings.Replace(imagesName, "images", "labels", 1), "idx3", "idx1", 1)
		return nil, fmt.Errorf("%s: no labels file next to it (expected %s)", src.display(imagesName), src.display(want))
	}
	images, err := src.read(imagesName)
	if err != nil {
		return nil, err
	}
	labels, err := src.read(labelsName)
	if err != nil {
		return nil, err
	}
	im, err := decodeIDX(images, labels)
	if err != nil {
		var fe fileError
		if errors.As(err, &fe) {
			name := map[bool]string{true: imagesName, false: labelsName}[fe.images]
			return nil, fmt.Errorf("%s: %w", src.display(name), fe.err)
		}
		return nil, fmt.Errorf("%s and %s: %w", src.display(imagesName), src.display(labelsName), err)
	}
	return im, nil
}

// fileError says which of the two files of a split an error is about.
type fileError struct {
	images bool
	err    error
}

func (e fileError) Error() string { return e.err.Error() }

// ReadIDX decodes an IDX images file and its labels file, each raw or
// gzip-compressed, into 1-channel images.
func ReadIDX(images, labels io.Reader) (*Images, error) {
	ib, err := readMaybeGzip(images)
	if err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	lb, err := readMaybeGzip(labels)
	if err != nil {
		return nil, fmt.Errorf("labels: %w", err)
	}
	return decodeIDX(ib, lb)
}

func decodeIDX(images, labels []byte) (*Images, error) {
	idims, pixels, err := parseIDX(images, idxImagesMagic)
	if err != nil {
		return nil, fileError{true, err}
	}
	ldims, lab, err := parseIDX(labels, idxLabelsMagic)
	if err != nil {
		return nil, fileError{false, err}
	}
	if idims[0] != ldims[0] {
		return nil, fmt.Errorf("%d images but %d labels", idims[0], ldims[0])
	}
	if idims[0] == 0 {
		return nil, fileError{true, errors.New("holds no images")}
	}
	if idims[1] == 0 || idims[2] == 0 {
		return nil, fileError{true, fmt.Errorf("images of %d×%d pixels", idims[2], idims[1])}
	}
	im := &Images{C: 1, H: idims[1], W: idims[2], Pixels: pixels, Labels: make([]int, len(lab))}
	for i, l := range lab {
		im.Labels[i] = int(l)
	}
	return im, nil
}

// parseIDX checks an IDX file's header against the expected magic number
// and returns its dimensions and data.
func parseIDX(b []byte, magic uint32) (dims []int, data []byte, err error) {
	kind := map[uint32]string{idxImagesMagic: "images", idxLabelsMagic: "labels"}[magic]
	if len(b) < 4 {
		return nil, nil, fmt.Errorf("truncated: %d bytes, but an IDX file starts with a 4-byte magic number", len(b))
	}
	got := binary.BigEndian.Uint32(b)
	if got != magic {
		return nil, nil, fmt.Errorf("magic number 0x%08X, want 0x%08X (IDX %s: unsigned bytes, %d dimensions)", got, magic, kind, magic&0xff)
	}
	n := int(magic & 0xff)
	if len(b) < 4+4*n {
		return nil, nil, fmt.Errorf("truncated: %d bytes, but the IDX %s header is %d", len(b), kind, 4+4*n)
	}
	want := int64(1)
	shape := make([]string, n)
	for i := range n {
		d := binary.BigEndian.Uint32(b[4+4*i:])
		dims = append(dims, int(d))
		want *= int64(d)
		shape[i] = fmt.Sprint(d)
		if want > 1<<40 {
			return nil, nil, fmt.Errorf("dimensions %s are implausibly large", strings.Join(shape[:i+1], "×"))
		}
	}
	data = b[4+4*n:]
	switch {
	case int64(len(data)) < want:
		return nil, nil, fmt.Errorf("truncated: %d bytes of data after the header, want %d (%s)", len(data), want, strings.Join(shape, "×"))
	case int64(len(data)) > want:
		return nil, nil, fmt.Errorf("%d bytes of data after the header, want %d (%s): trailing bytes", len(data), want, strings.Join(shape, "×"))
	}
	return dims, data, nil
}

// WriteIDX writes 1-channel images as an IDX images file and an IDX labels
// file (raw; wrap the writers in gzip for .gz files). Labels must be below 256.
func (im *Images) WriteIDX(images, labels io.Writer) error {
	if im.C != 1 {
		return fmt.Errorf("IDX holds 1-channel images, not %d", im.C)
	}
	hdr := binary.BigEndian.AppendUint32(nil, idxImagesMagic)
	for _, d := range []int{im.Len(), im.H, im.W} {
		hdr = binary.BigEndian.AppendUint32(hdr, uint32(d))
	}
	if _, err := images.Write(append(hdr, im.Pixels...)); err != nil {
		return err
	}
	lab := binary.BigEndian.AppendUint32(nil, idxLabelsMagic)
	lab = binary.BigEndian.AppendUint32(lab, uint32(im.Len()))
	for i, l := range im.Labels {
		if l < 0 || l > 255 {
			return fmt.Errorf("label %d of image %d does not fit in a byte", l, i)
		}
		lab = append(lab, byte(l))
	}
	_, err := labels.Write(lab)
	return err
}

// readMaybeGzip reads all of r, inflating it if it is gzip-compressed.
func readMaybeGzip(r io.Reader) ([]byte, error) {
	b, err := safeio.ReadAll(r, 0, MaxFileBytes)
	if err != nil {
		return nil, err
	}
	return inflate(b)
}

func inflate(b []byte) ([]byte, error) {
	if !safeio.IsGzip(b) {
		return b, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	limit := MaxDecompressedBytes
	// An IDX file declares its size in its header: inflate that much (and
	// a byte more, to detect trailing data), not whatever the stream holds.
	head := make([]byte, 4)
	n, _ := io.ReadFull(zr, head)
	head = head[:n]
	if n == 4 && head[0] == 0 && head[1] == 0 && head[2] == 0x08 {
		dims := make([]byte, 4*int(head[3]))
		m, _ := io.ReadFull(zr, dims)
		head = append(head, dims[:m]...)
		if m == len(dims) {
			size := int64(1)
			for i := range int(head[3]) {
				d := int64(binary.BigEndian.Uint32(dims[4*i:]))
				if d != 0 && size > (limit+1)/d {
					size = limit + 1
					break
				}
				size *= d
			}
			if declared := int64(len(head)) + size; declared > limit {
				return nil, safeio.TooLargef("gzip: the IDX header declares %d dimensions totalling more than the %d-byte limit", head[3], limit)
			}
			rest, err := safeio.ReadAll(io.LimitReader(zr, size+1), size, -1)
			if err != nil {
				return nil, fmt.Errorf("gzip: %w", err)
			}
			if int64(len(rest)) > size {
				return nil, fmt.Errorf("gzip: inflates to more than the %d bytes its IDX header declares: trailing data", int64(len(head))+size)
			}
			return append(head, rest...), nil
		}
	}
	// Otherwise the trailer's size (modulo 2³²) is a hint for the buffer:
	// only a claim, capped by safeio and MaxDecompressedBytes.
	hint := int64(0)
	if len(b) >= 18 {
		hint = int64(binary.LittleEndian.Uint32(b[len(b)-4:]))
	}
	rest, err := safeio.ReadAll(zr, hint, limit-int64(len(head)))
	if err != nil {
		if errors.Is(err, safeio.ErrTooLarge) {
			return nil, safeio.TooLargef("gzip: inflates to more than the %d-byte limit", limit)
		}
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return append(head, rest...), nil
}

// source is a folder being loaded: a file system and the name its files
// are shown under in errors.
type source struct {
	fsys fs.FS
	name string // the folder as the user gave it
	dir  string // path inside fsys
}

func (s source) path(name string) string { return path.Join(s.dir, name) }

func (s source) display(name string) string {
	full := s.path(name)
	switch {
	case s.name == "":
		return full
	case full == path.Clean(s.dir):
		return s.name
	case s.dir == ".":
		return strings.TrimSuffix(s.name, "/") + "/" + full
	}
	return strings.TrimSuffix(s.name, "/") + "/" + strings.TrimPrefix(full, path.Clean(s.dir)+"/")
}

func (s source) exists(name string) bool {
	st, err := fs.Stat(s.fsys, s.path(name))
	return err == nil && !st.IsDir()
}

// read reads a file, inflating it if it is gzip-compressed.
func (s source) read(name string) ([]byte, error) {
	b, err := safeio.ReadFS(s.fsys, s.path(name), MaxFileBytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.display(name), unwrapPathError(err))
	}
	if b, err = inflate(b); err != nil {
		return nil, fmt.Errorf("%s: %w", s.display(name), err)
	}
	return b, nil
}

// sub is the source for a sub-folder.
func (s source) sub(name string) source {
	return source{fsys: s.fsys, name: s.display(name), dir: s.path(name)}
}

// unwrapPathError drops fs.PathError's own copy of the path, which names
// the file inside the file system rather than as the user gave it.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
