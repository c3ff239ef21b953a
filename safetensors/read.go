package safetensors

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"unicode/utf8"

	"github.com/tapeml/tapeml/internal/safeio"
)

// MaxHeaderSize is the largest JSON header Read accepts, the reference
// implementation's limit (100 MB). It guards against allocating whatever a
// corrupted length field says.
const MaxHeaderSize = 100_000_000

// File is the content of a safetensors file.
type File struct {
	// Tensors in the order of their data in the buffer. Their Data slices
	// share one buffer.
	Tensors []Tensor
	// Metadata is the header's __metadata__ map, nil if absent.
	Metadata map[string]string
}

// Lookup returns the tensor called name.
func (f *File) Lookup(name string) (Tensor, bool) { return Lookup(f.Tensors, name) }

// Names returns the tensor names in buffer order.
func (f *File) Names() []string {
	names := make([]string, len(f.Tensors))
	for i, t := range f.Tensors {
		names[i] = t.Name
	}
	return names
}

// ReadFile reads and validates the safetensors file at path. Errors name the
// file and, where one is at fault, the tensor.
func ReadFile(path string) (*File, error) {
	// A FIFO or device (or a link to one) would block or never end.
	f, size, err := safeio.Open(path, -1)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	defer f.Close()
	file, err := Read(f, size)
	if err != nil {
		return nil, fmt.Errorf("safetensors %s: %w", path, err)
	}
	return file, nil
}

// Read reads and validates a safetensors file of size bytes from r. The
// data buffer is allocated only after the header has been checked against
// size, and is filled piecewise, so a reader shorter than size fails
// before size bytes are held.
func Read(r io.Reader, size int64) (*File, error) {
	if size < 8 {
		return nil, fmt.Errorf("%d bytes is too short for the 8-byte header length", size)
	}
	var nb [8]byte
	if _, err := io.ReadFull(r, nb[:]); err != nil {
		return nil, fmt.Errorf("reading header length: %w", err)
	}
	n, err := headerLen(nb[:], size)
	if err != nil {
		return nil, err
	}
	header := make([]byte, n)
	if _, err := io.ReadFull(r, header); err != nil {
		return nil, fmt.Errorf("reading %d-byte header: %w", n, err)
	}
	bufLen := size - 8 - n
	entries, metadata, err := parseHeader(header)
	if err != nil {
		return nil, err
	}
	if err := checkLayout(entries, bufLen); err != nil {
		return nil, err
	}
	buf, err := safeio.ReadAll(io.LimitReader(r, bufLen), bufLen, bufLen)
	if err != nil {
		return nil, fmt.Errorf("reading %d-byte data buffer: %w", bufLen, err)
	}
	if int64(len(buf)) != bufLen {
		return nil, fmt.Errorf("reading %d-byte data buffer: %w", bufLen, io.ErrUnexpectedEOF)
	}
	return newFile(entries, metadata, buf), nil
}

// Parse validates the safetensors file held in b. The tensors' Data share
// b's memory (no copy), which halves the peak memory of a caller that
// already read the file, as checkpoint.Load does to check its sha256.
func Parse(b []byte) (*File, error) {
	size := int64(len(b))
	if size < 8 {
		return nil, fmt.Errorf("%d bytes is too short for the 8-byte header length", size)
	}
	n, err := headerLen(b[:8], size)
	if err != nil {
		return nil, err
	}
	entries, metadata, err := parseHeader(b[8 : 8+n])
	if err != nil {
		return nil, err
	}
	buf := b[8+n:]
	if err := checkLayout(entries, int64(len(buf))); err != nil {
		return nil, err
	}
	return newFile(entries, metadata, buf), nil
}

// headerLen decodes and bounds the header length of a file of size bytes.
func headerLen(nb []byte, size int64) (int64, error) {
	n := binary.LittleEndian.Uint64(nb)
	if n > uint64(size-8) {
		return 0, fmt.Errorf("header length %d is larger than the %d bytes that follow it (truncated file, or not safetensors)", n, size-8)
	}
	if n > MaxHeaderSize {
		return 0, fmt.Errorf("header length %d exceeds the %d-byte limit", n, MaxHeaderSize)
	}
	return int64(n), nil
}

func newFile(entries []entry, metadata map[string]string, buf []byte) *File {
	file := &File{Tensors: make([]Tensor, len(entries)), Metadata: metadata}
	for i, e := range entries {
		shape := make([]int, len(e.shape))
		for j, d := range e.shape {
			shape[j] = int(d)
		}
		file.Tensors[i] = Tensor{Name: e.name, Dtype: e.dtype, Shape: shape, Data: buf[e.begin:e.end:e.end]}
	}
	return file
}

// entry is one tensor's header record.
type entry struct {
	name       string
	dtype      string
	shape      []int64
	begin, end int64
}

// parseHeader decodes the JSON header token by token, which keeps entry
// order and catches duplicate names that decoding into a map would hide.
func parseHeader(header []byte) ([]entry, map[string]string, error) {
	if !utf8.Valid(header) {
		return nil, nil, errors.New("header is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(header))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("header is not a JSON object (starts %q)", prefix(header, 32))
	}
	var (
		entries  []entry
		metadata map[string]string
		seen     = map[string]bool{}
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("invalid JSON header: %w", err)
		}
		name := tok.(string) // object keys are always strings
		if seen[name] {
			return nil, nil, fmt.Errorf("header lists %q twice", name)
		}
		seen[name] = true
		if name == metadataKey {
			if err := dec.Decode(&metadata); err != nil {
				return nil, nil, fmt.Errorf("header %s must map strings to strings: %w", metadataKey, err)
			}
			continue
		}
		var info struct {
			Dtype       *string  `json:"dtype"`
			Shape       *[]int64 `json:"shape"`
			DataOffsets *[]int64 `json:"data_offsets"`
		}
		if err := dec.Decode(&info); err != nil {
			return nil, nil, fmt.Errorf("tensor %q: invalid header entry: %w", name, err)
		}
		switch {
		case info.Dtype == nil:
			return nil, nil, fmt.Errorf("tensor %q: header entry has no dtype", name)
		case info.Shape == nil:
			return nil, nil, fmt.Errorf("tensor %q: header entry has no shape", name)
		case info.DataOffsets == nil || len(*info.DataOffsets) != 2:
			return nil, nil, fmt.Errorf("tensor %q: header entry needs data_offsets [begin, end]", name)
		}
		e := entry{name: name, dtype: *info.Dtype, shape: *info.Shape, begin: (*info.DataOffsets)[0], end: (*info.DataOffsets)[1]}
		if e.begin < 0 || e.end < e.begin {
			return nil, nil, fmt.Errorf("tensor %q: data_offsets [%d, %d] are not an interval", name, e.begin, e.end)
		}
		want, err := byteLen(e.dtype, e.shape)
		if err != nil {
			return nil, nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		if e.end-e.begin != want {
			return nil, nil, fmt.Errorf("tensor %q: %s × shape %v is %d bytes, but data_offsets [%d, %d] span %d", name, e.dtype, e.shape, want, e.begin, e.end, e.end-e.begin)
		}
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, nil, fmt.Errorf("invalid JSON header: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errors.New("invalid JSON header: data after the closing brace")
	}
	return entries, metadata, nil
}

// checkLayout sorts entries by offset and checks that they tile the data
// buffer exactly: no tensor past its end, no overlap, no gap, no trailing
// bytes.
func checkLayout(entries []entry, bufLen int64) error {
	slices.SortStableFunc(entries, func(a, b entry) int {
		if a.begin != b.begin {
			return cmp.Compare(a.begin, b.begin)
		}
		return cmp.Compare(a.end, b.end)
	})
	var cursor int64
	for i, e := range entries {
		if e.end > bufLen {
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] run past the %d-byte data buffer (truncated file?)", e.name, e.begin, e.end, bufLen)
		}
		if e.begin < cursor {
			prev := entries[i-1]
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] overlap tensor %q [%d, %d]", e.name, e.begin, e.end, prev.name, prev.begin, prev.end)
		}
		if e.begin > cursor {
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] leave bytes [%d, %d) of the buffer unused", e.name, e.begin, e.end, cursor, e.begin)
		}
		cursor = e.end
	}
	if cursor != bufLen {
		return fmt.Errorf("data buffer has %d bytes but tensors cover only the first %d", bufLen, cursor)
	}
	return nil
}

func prefix(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
