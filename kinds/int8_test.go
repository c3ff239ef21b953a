package kinds_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/kinds"
	_ "github.com/tapeml/tapeml/models/all"
	"github.com/tapeml/tapeml/safetensors"
)

// int8Checkpoint is the legacy TextCNN with fc.weight in int8, changed by
// tamper (which may edit the tensors and quantization.json).
func int8Checkpoint(t *testing.T, tamper func(ts []safetensors.Tensor, info *checkpoint.Quantization) []safetensors.Tensor) *checkpoint.Checkpoint {
	t.Helper()
	c, err := checkpoint.Load("../testdata/legacy/textcnn")
	if err != nil {
		t.Fatal(err)
	}
	var ts []safetensors.Tensor
	for _, x := range c.Weights {
		if x.Name != "fc.weight" {
			ts = append(ts, x)
			continue
		}
		w, err := x.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, checkpoint.QuantTensors(x.Name, graph.QuantizeRows(w, x.Shape))...)
	}
	info := &checkpoint.Quantization{Format: "int8", Tensors: map[string]string{"fc.weight": "linear"}}
	if tamper != nil {
		ts = tamper(ts, info)
	}
	raw, err := checkpoint.QuantizationJSON(info)
	if err != nil {
		t.Fatal(err)
	}
	c.Dir, c.Weights = "", ts
	c.Extra = map[string][]byte{checkpoint.QuantizationFile: raw}
	return c
}

func TestOpenInt8Checkpoint(t *testing.T) {
	l, err := kinds.Decode(int8Checkpoint(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	q := l.Params.Quantized("fc.weight")
	if q == nil || l.Quantization == nil || l.Quantization.Tensors["fc.weight"] != "linear" {
		t.Fatalf("no int8 form of fc.weight: %v %v", q, l.Quantization)
	}
	w := make([]float32, len(q.Q))
	q.Dequantize(w)
	if !slices.Equal(l.Params.Get("fc.weight").Value.Float32s(), w) {
		t.Error("the float32 parameter does not hold the dequantized weight")
	}
	if l.Params.Quantized("conv.weight") != nil {
		t.Error("conv.weight has an int8 form it was not given")
	}
}

// TestOpenInt8CheckpointErrors: every malformed int8 checkpoint is refused
// with an error naming the tensor or field.
func TestOpenInt8CheckpointErrors(t *testing.T) {
	set := func(name string, f func(*safetensors.Tensor)) func([]safetensors.Tensor, *checkpoint.Quantization) []safetensors.Tensor {
		return func(ts []safetensors.Tensor, _ *checkpoint.Quantization) []safetensors.Tensor {
			for i := range ts {
				if ts[i].Name == name {
					f(&ts[i])
				}
			}
			return ts
		}
	}
	drop := func(name string) func([]safetensors.Tensor, *checkpoint.Quantization) []safetensors.Tensor {
		return func(ts []safetensors.Tensor, _ *checkpoint.Quantization) []safetensors.Tensor {
			return slices.DeleteFunc(ts, func(x safetensors.Tensor) bool { return x.Name == name })
		}
	}
	for _, tc := range []struct {
		name   string
		tamper func([]safetensors.Tensor, *checkpoint.Quantization) []safetensors.Tensor
		want   string
	}{
		{"no scale", drop("fc.weight.scale"), `"fc.weight.scale"`},
		{"no int8", drop("fc.weight.int8"), `"fc.weight.int8"`},
		{"negative scale", set("fc.weight.scale", func(x *safetensors.Tensor) {
			*x = safetensors.F32(x.Name, x.Shape, []float32{-1})
		}), "scale 0 is -1"},
		{"-128", set("fc.weight.int8", func(x *safetensors.Tensor) { x.Data[0] = 0x80 }), "−128"},
		{"int8 as F32", set("fc.weight.int8", func(x *safetensors.Tensor) { x.Dtype = "U8" }), "expected I8"},
		{"unlisted", func(ts []safetensors.Tensor, info *checkpoint.Quantization) []safetensors.Tensor {
			info.Tensors = map[string]string{}
			return ts
		}, `"fc.weight.int8" is not listed`},
		{"role", func(ts []safetensors.Tensor, info *checkpoint.Quantization) []safetensors.Tensor {
			info.Tensors["fc.weight"] = "attention"
			return ts
		}, `role "attention"`},
		{"format", func(ts []safetensors.Tensor, info *checkpoint.Quantization) []safetensors.Tensor {
			info.Format = "int4"
			return ts
		}, `format "int4"`},
		{"both", func(ts []safetensors.Tensor, _ *checkpoint.Quantization) []safetensors.Tensor {
			return append(ts, safetensors.F32("fc.weight", []int{1}, []float32{0}))
		}, "both as float32 and as int8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := kinds.Decode(int8Checkpoint(t, tc.tamper))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %s", err, tc.want)
			}
		})
	}
}
