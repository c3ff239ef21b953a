package safetensors

import (
	"math"
	"strings"
	"testing"
)

func TestCheckFinite(t *testing.T) {
	inf := float32(math.Inf(1))
	tests := []struct {
		name    string
		tensors []Tensor
		want    string // "" = finite
	}{
		{"finite", []Tensor{F32("a", []int{2}, []float32{1, -3.4e38}), I64("n", nil, []int64{-1})}, ""},
		{"NaN", []Tensor{F32("ok", []int{1}, []float32{0}), F32("fc.weight", []int{3}, []float32{1, 2, float32(math.NaN())})}, `tensor "fc.weight": element 2 is NaN`},
		{"+Inf", []Tensor{F32("b", []int{1}, []float32{inf})}, `tensor "b": element 0 is +Inf`},
		{"-Inf", []Tensor{F32("b", []int{2}, []float32{0, -inf})}, `tensor "b": element 1 is -Inf`},
		{"F64 NaN", []Tensor{{Name: "d", Dtype: "F64", Shape: []int{1}, Data: []byte{1, 0, 0, 0, 0, 0, 0xf8, 0x7f}}}, `tensor "d": element 0 is NaN`},
		{"F16 -Inf", []Tensor{{Name: "h", Dtype: "F16", Shape: []int{2}, Data: []byte{0, 0x3c, 0, 0xfc}}}, `tensor "h": element 1 is -Inf`},
		{"BF16 NaN", []Tensor{{Name: "h", Dtype: "BF16", Shape: []int{1}, Data: []byte{0xc0, 0x7f}}}, `tensor "h": element 0 is NaN`},
		{"I32 all ones", []Tensor{{Name: "i", Dtype: "I32", Shape: []int{1}, Data: []byte{0xff, 0xff, 0xff, 0xff}}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckFinite(tc.tensors)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseSharesBuffer(t *testing.T) {
	var buf strings.Builder
	if err := Write(&buf, []Tensor{F32("w", []int{2}, []float32{1, 2})}, nil); err != nil {
		t.Fatal(err)
	}
	b := []byte(buf.String())
	f, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0xff
	if f.Tensors[0].Data[7] != b[len(b)-1] {
		t.Error("Parse copied the data buffer")
	}
	if _, err := Parse(b[:len(b)-1]); err == nil {
		t.Error("Parse accepted a truncated file")
	}
}
