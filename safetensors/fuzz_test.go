package safetensors

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRead: Read and Parse accept the same files, give the same tensors,
// and never panic; what they accept writes back to an equivalent file.
func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	if err := Write(&buf, []Tensor{
		F32("w", []int{2, 2}, []float32{1, 2, 3, float32(math.NaN())}),
		I64("n", []int{}, []int64{7}),
		{Name: "h", Dtype: "F16", Shape: []int{1}, Data: []byte{0, 0x3c}},
	}, map[string]string{"format": "pt"}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("\x08\x00\x00\x00\x00\x00\x00\x00{}      "))
	f.Add([]byte("\x40\x00\x00\x00\x00\x00\x00\x00{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,0]}}"))
	if golden, err := filepath.Glob(filepath.Join("testdata", "*.safetensors")); err == nil {
		for _, p := range golden {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fromReader, rerr := Read(bytes.NewReader(b), int64(len(b)))
		parsed, perr := Parse(b)
		if (rerr == nil) != (perr == nil) {
			t.Fatalf("Read error %v, Parse error %v", rerr, perr)
		}
		if rerr != nil {
			return
		}
		if len(fromReader.Tensors) != len(parsed.Tensors) {
			t.Fatalf("Read %d tensors, Parse %d", len(fromReader.Tensors), len(parsed.Tensors))
		}
		for i, a := range fromReader.Tensors {
			p := parsed.Tensors[i]
			if a.Name != p.Name || a.Dtype != p.Dtype || !bytes.Equal(a.Data, p.Data) {
				t.Fatalf("tensor %d: Read %+v, Parse %+v", i, a, p)
			}
			if err := a.validate(); err != nil {
				t.Fatalf("Read returned an invalid tensor: %v", err)
			}
		}
		_ = CheckFinite(parsed.Tensors)
		var out bytes.Buffer
		if err := Write(&out, parsed.Tensors, parsed.Metadata); err != nil {
			t.Fatalf("an accepted file does not write back: %v", err)
		}
		again, err := Parse(out.Bytes())
		if err != nil || len(again.Tensors) != len(parsed.Tensors) {
			t.Fatalf("written back, it reads as %v, %v", again, err)
		}
	})
}
