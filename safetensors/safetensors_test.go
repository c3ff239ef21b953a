package safetensors

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// encode returns the file Write produces, failing the test on error.
func encode(t *testing.T, tensors []Tensor, metadata map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, tensors, metadata); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return b.Bytes()
}

func decode(data []byte) (*File, error) {
	return Read(bytes.NewReader(data), int64(len(data)))
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		tensors  []Tensor
		metadata map[string]string
	}{
		{"no tensors", nil, nil},
		{"metadata only", nil, map[string]string{"format": "pt", "note": "<a & b>"}},
		{"state dict", []Tensor{
			F32("fc.weight", []int{2, 3}, []float32{1, -2, 3.5, 0, 1e-30, -0}),
			F32("fc.bias", []int{2}, []float32{0.25, -0.75}),
			I64("bn.num_batches_tracked", []int{}, []int64{42}),
		}, map[string]string{"format": "pt"}},
		{"odd sizes and dtypes", []Tensor{
			{Name: "mask", Dtype: "BOOL", Shape: []int{3}, Data: []byte{1, 0, 1}},
			F32("w", []int{1}, []float32{7}),
			{Name: "half", Dtype: "F16", Shape: []int{1}, Data: []byte{0, 0x3c}},
			{Name: "d", Dtype: "F64", Shape: []int{1}, Data: make([]byte, 8)},
			{Name: "empty", Dtype: "F32", Shape: []int{0, 4}, Data: []byte{}},
			{Name: "ü/ñ \"quoted\"", Dtype: "U8", Shape: []int{2, 1}, Data: []byte{9, 8}},
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := encode(t, tc.tensors, tc.metadata)
			if n := binary.LittleEndian.Uint64(data); n%8 != 0 {
				t.Errorf("header length %d is not a multiple of 8", n)
			}
			f, err := decode(data)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if len(f.Tensors) != len(tc.tensors) {
				t.Fatalf("got %d tensors, want %d", len(f.Tensors), len(tc.tensors))
			}
			for i, want := range tc.tensors {
				got := f.Tensors[i]
				if got.Name != want.Name || got.Dtype != want.Dtype || !reflect.DeepEqual(got.Shape, want.Shape) || !bytes.Equal(got.Data, want.Data) {
					t.Errorf("tensor %d = %+v, want %+v", i, got, want)
				}
			}
			if len(tc.metadata) > 0 && !reflect.DeepEqual(f.Metadata, tc.metadata) {
				t.Errorf("metadata = %v, want %v", f.Metadata, tc.metadata)
			}
			// Writing what was read gives the same bytes.
			if again := encode(t, f.Tensors, f.Metadata); !bytes.Equal(again, data) {
				t.Errorf("rewrite differs:\n%q\n%q", again, data)
			}
		})
	}
}

// TestReferenceBytes checks Write against the expected bytes of the reference
// implementation's own tests (safetensors/src/tensor.rs: test_serialization,
// test_empty, test_serialization_forced_alignement).
func TestReferenceBytes(t *testing.T) {
	six := []float32{0, 1, 2, 3, 4, 5}
	data := encode(t, []Tensor{F32("attn.0", []int{1, 2, 3}, six)}, nil)
	want := append([]byte{64, 0, 0, 0, 0, 0, 0, 0}, `{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}`...)
	want = append(want, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64)
	if !bytes.Equal(data, want) {
		t.Errorf("attn.0:\n got %q\nwant %q", data, want)
	}

	data = encode(t, []Tensor{F32("attn0", []int{1, 1, 2, 3}, six)}, nil)
	want = append([]byte{72, 0, 0, 0, 0, 0, 0, 0}, `{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       `...)
	want = append(want, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64)
	if !bytes.Equal(data, want) {
		t.Errorf("attn0 (padded):\n got %q\nwant %q", data, want)
	}

	if data, want := encode(t, nil, nil), "\x08\x00\x00\x00\x00\x00\x00\x00{}      "; string(data) != want {
		t.Errorf("empty: got %q, want %q", data, want)
	}
	data = encode(t, nil, map[string]string{"framework": "pt"})
	if want := "\x28\x00\x00\x00\x00\x00\x00\x00" + `{"__metadata__":{"framework":"pt"}}     `; string(data) != want {
		t.Errorf("metadata: got %q, want %q", data, want)
	}
}

func TestWriteRejects(t *testing.T) {
	ok := F32("ok", []int{1}, []float32{1})
	tests := []struct {
		name    string
		tensors []Tensor
		want    string
	}{
		{"empty name", []Tensor{{Dtype: "F32", Shape: []int{}, Data: make([]byte, 4)}}, "empty name"},
		{"reserved name", []Tensor{{Name: "__metadata__", Dtype: "U8", Shape: []int{1}, Data: []byte{1}}}, "reserved"},
		{"duplicate", []Tensor{ok, ok}, `duplicate tensor name "ok"`},
		{"unknown dtype", []Tensor{{Name: "x", Dtype: "F128", Shape: []int{1}, Data: make([]byte, 16)}}, `tensor "x": unknown dtype "F128"`},
		{"short data", []Tensor{{Name: "x", Dtype: "F32", Shape: []int{2, 2}, Data: make([]byte, 12)}}, `tensor "x": F32 × shape [2 2] is 16 bytes, but it has 12`},
		{"negative dim", []Tensor{{Name: "x", Dtype: "F32", Shape: []int{-1}, Data: nil}}, "negative"},
		{"constructor mismatch", []Tensor{F32("x", []int{3}, []float32{1, 2})}, `tensor "x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			err := Write(&b, tc.tensors, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Write error = %v, want it to contain %q", err, tc.want)
			}
			if b.Len() != 0 {
				t.Errorf("Write wrote %d bytes before failing", b.Len())
			}
		})
	}
}

// craft builds a file from a raw header (padded as Write would) and buffer.
func craft(header string, buf []byte) []byte {
	for len(header)%8 != 0 {
		header += " "
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(out, header...), buf...)
}

func TestReadRejects(t *testing.T) {
	valid := craft(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8))
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"too short", []byte{1, 2, 3}, "too short"},
		{"header longer than file", valid[:40], "header length 56 is larger than the 32 bytes"},
		{"truncated buffer", valid[:len(valid)-1], `tensor "a": data_offsets [0, 8] run past the 7-byte data buffer`},
		{"invalid JSON", craft(`{"a":{"dtype":"F32",`, nil), "invalid"},
		{"not an object", craft(`[1, 2]`, nil), "not a JSON object"},
		{"invalid UTF-8", craft("{\"\xff\":{}}", nil), "UTF-8"},
		{"data after object", craft(`{} {}`, nil), "after the closing brace"},
		{"unknown dtype", craft(`{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}`, []byte{0}), `tensor "a": unknown dtype "Q4"`},
		{"missing dtype", craft(`{"a":{"shape":[1],"data_offsets":[0,1]}}`, []byte{0}), `tensor "a": header entry has no dtype`},
		{"missing shape", craft(`{"a":{"dtype":"U8","data_offsets":[0,1]}}`, []byte{0}), `tensor "a": header entry has no shape`},
		{"three offsets", craft(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}`, []byte{0}), `tensor "a": header entry needs data_offsets`},
		{"entry not an object", craft(`{"a":"F32"}`, nil), `tensor "a": invalid header entry`},
		{"negative dimension", craft(`{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}`, nil), `tensor "a": shape [-1]: dimension 0 is negative`},
		{"reversed offsets", craft(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}`, nil), `tensor "a": data_offsets [4, 0] are not an interval`},
		{"size mismatch", craft(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, make([]byte, 8)), `tensor "a": F32 × shape [3] is 12 bytes, but data_offsets [0, 8] span 8`},
		{"overflow", craft(`{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, make([]byte, 8)), `tensor "a": shape [4294967296 4294967296] of F64: byte length overflows`},
		{"out of range", craft(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}`, []byte{1, 2}), `tensor "a": data_offsets [0, 4] run past the 2-byte data buffer`},
		{"overlap", craft(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}`, make([]byte, 4)), `tensor "b": data_offsets [2, 4] overlap tensor "a" [0, 4]`},
		{"gap", craft(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}`, make([]byte, 3)), `tensor "b": data_offsets [2, 3] leave bytes [1, 2) of the buffer unused`},
		{"uncovered tail", craft(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, make([]byte, 3)), "data buffer has 3 bytes but tensors cover only the first 1"},
		{"duplicate name", craft(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, make([]byte, 2)), `header lists "a" twice`},
		{"duplicate metadata", craft(`{"__metadata__":{},"__metadata__":{}}`, nil), `header lists "__metadata__" twice`},
		{"non-string metadata", craft(`{"__metadata__":{"epoch":3}}`, nil), "__metadata__ must map strings to strings"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := decode(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Read error = %v (file %+v), want it to contain %q", err, f, tc.want)
			}
		})
	}
}

func TestReadHeaderLimit(t *testing.T) {
	// A size that claims a huge file must not make Read allocate the header.
	data := binary.LittleEndian.AppendUint64(nil, MaxHeaderSize+8)
	_, err := Read(bytes.NewReader(data), 1<<40)
	if err == nil || !strings.Contains(err.Error(), "exceeds the 100000000-byte limit") {
		t.Fatalf("Read error = %v, want the header limit", err)
	}
}

func TestReadAcceptsAnyOffsetOrder(t *testing.T) {
	// Older writers sorted entries by name, not offset.
	data := craft(`{"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"__metadata__":null}`, []byte{10, 20})
	f, err := decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Names(); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("Names() = %v, want buffer order [a b]", got)
	}
	if b, ok := f.Lookup("b"); !ok || b.Data[0] != 20 {
		t.Errorf("Lookup(b) = %+v, %v", b, ok)
	}
	if _, ok := f.Lookup("c"); ok {
		t.Error("Lookup(c) found a tensor")
	}
}

func TestDecodeValues(t *testing.T) {
	f32 := F32("w", []int{2}, []float32{1.5, -3})
	i64 := I64("n", nil, []int64{-7})
	if v, err := f32.Float32s(); err != nil || !reflect.DeepEqual(v, []float32{1.5, -3}) {
		t.Errorf("Float32s = %v, %v", v, err)
	}
	if v, err := i64.Int64s(); err != nil || !reflect.DeepEqual(v, []int64{-7}) {
		t.Errorf("Int64s = %v, %v", v, err)
	}
	if _, err := f32.Int64s(); err == nil || !strings.Contains(err.Error(), `tensor "w" is F32, not I64`) {
		t.Errorf("Int64s of F32: error %v", err)
	}
	if _, err := i64.Float32s(); err == nil || !strings.Contains(err.Error(), `tensor "n" is I64, not F32`) {
		t.Errorf("Float32s of I64: error %v", err)
	}
	bad := Tensor{Name: "w", Dtype: "F32", Shape: []int{2}, Data: make([]byte, 7)}
	if _, err := bad.Float32s(); err == nil || !strings.Contains(err.Error(), "8 bytes, but it has 7") {
		t.Errorf("Float32s of short data: error %v", err)
	}
	if n := (Tensor{Shape: []int{}}).Numel(); n != 1 {
		t.Errorf("scalar Numel = %d, want 1", n)
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	first := []Tensor{F32("w", []int{1}, []float32{1})}
	if err := WriteFile(path, first, nil); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := f.Tensors[0].Float32s(); v[0] != 1 {
		t.Fatalf("read back %v", v)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", info.Mode().Perm())
	}

	// A failed write leaves the old file and no temporary file.
	bad := []Tensor{{Name: "w", Dtype: "F32", Shape: []int{2}, Data: nil}}
	if err := WriteFile(path, bad, nil); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("WriteFile(bad) error = %v, want one naming %s", err, path)
	}
	if err := WriteFile(filepath.Join(dir, "missing", "x.safetensors"), first, nil); err == nil {
		t.Fatal("WriteFile into a missing directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after failed writes, want 1", len(entries))
	}
	if f, err := ReadFile(path); err != nil || len(f.Tensors) != 1 {
		t.Errorf("previous file damaged: %v", err)
	}

	// Errors name the file.
	data, _ := os.ReadFile(path)
	if err := os.WriteFile(path, data[:len(data)-2], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), "safetensors "+path+`: tensor "w"`) {
		t.Errorf("ReadFile(truncated) error = %v, want it to name the file and tensor", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "absent.safetensors")); err == nil || !strings.Contains(err.Error(), "absent.safetensors") {
		t.Errorf("ReadFile(absent) error = %v", err)
	}
}
