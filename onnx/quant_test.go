package onnx_test

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/tapeml/tapeml/internal/testutil/onnxtest"
	"github.com/tapeml/tapeml/onnx"
	"github.com/tapeml/tapeml/safetensors"
)

// int8Tensors is weight name's int8 form as an int8 checkpoint stores it.
func int8Tensors(name string, shape []int, q []int8, scale []float32, inputScale float32) []safetensors.Tensor {
	data := make([]byte, len(q))
	for i, v := range q {
		data[i] = byte(v)
	}
	ts := []safetensors.Tensor{
		{Name: name + ".int8", Dtype: "I8", Shape: shape, Data: data},
		safetensors.F32(name+".scale", []int{len(scale)}, scale),
	}
	if inputScale != 0 {
		ts = append(ts, safetensors.F32(name+".input_scale", []int{1}, []float32{inputScale}))
	}
	return ts
}

// qdqWeights: an embedding, a convolution with a static input scale and a
// Linear, all int8, and the Linear's float32 bias.
func qdqWeights() []safetensors.Tensor {
	var ts []safetensors.Tensor
	ts = append(ts, int8Tensors("emb.weight", []int{5, 4}, []int8{
		0, 0, 0, 0, 1, -2, 3, -4, 5, 6, 7, 8, -127, 127, 0, 1, 9, 9, 9, 9}, []float32{1, 0.5, 0.25, 2, 0.125}, 0)...)
	ts = append(ts, int8Tensors("conv.weight", []int{2, 4, 3}, []int8{
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12}, []float32{0.01, 0.02}, 0.05)...)
	ts = append(ts, safetensors.F32("conv.bias", []int{2}, []float32{0.1, -0.1}))
	ts = append(ts, int8Tensors("fc.weight", []int{3, 2}, []int8{1, 2, 3, 4, 5, 6}, []float32{0.1, 0.2, 0.3}, 0)...)
	ts = append(ts, safetensors.F32("fc.bias", []int{3}, []float32{1, 2, 3}))
	return ts
}

func buildQDQ(weights []safetensors.Tensor) (*onnx.Model, error) {
	b := onnx.NewGraphBuilder("test", weights)
	b.Input("ids", onnx.Int64, onnx.BatchDim, onnx.Dim{Value: 3})
	x := b.Embedding("embedded", "emb.weight", 5, 4, "ids")                   // [N, L, E]
	x = b.Op("ncl", "Transpose", []string{x}, onnx.IntsAttr("perm", 0, 2, 1)) // [N, E, L]
	x = b.Op("conv", "Conv", []string{b.ConvInput(x, "conv.weight"), b.Param("conv.weight", 2, 4, 3), b.Param("conv.bias", 2)},
		onnx.IntsAttr("kernel_shape", 3)) // [N, 2, 1]
	x = b.Op("flat", "Flatten", []string{x}, onnx.IntAttr("axis", 1)) // [N, 2]
	b.Gemm("logits", x, "fc", 2, 3)
	b.Output("logits", onnx.Float, onnx.BatchDim, onnx.Dim{Value: 3})
	return b.Finish(struct{}{}, "test")
}

// TestQDQGraph: int8 weights become int8 initializers with
// DequantizeLinear per row, a convolution's input gets QuantizeLinear and
// DequantizeLinear with its static scale (zero point 128, uint8), a Linear
// is quantized dynamically over its transposed int8 weight, and an int8
// embedding gathers int8 rows and their scales.
func TestQDQGraph(t *testing.T) {
	m, err := buildQDQ(qdqWeights())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	g, err := onnxtest.Unmarshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	init := func(name string) *onnx.Tensor {
		x, ok := g.Graph.Initializer(name)
		if !ok {
			t.Fatalf("no initializer %q", name)
		}
		return x
	}
	node := func(out string) *onnx.Node {
		for i := range g.Graph.Nodes {
			if slices.Contains(g.Graph.Nodes[i].Outputs, out) {
				return &g.Graph.Nodes[i]
			}
		}
		t.Fatalf("no node writes %q", out)
		return nil
	}
	bytesOf := func(v ...int8) []byte {
		b := make([]byte, len(v))
		for i, x := range v {
			b[i] = byte(x)
		}
		return b
	}

	// The convolution's weight: int8 as stored, DequantizeLinear on axis 0.
	w := init("conv.weight.int8")
	if w.DataType != onnx.Int8 || !slices.Equal(w.Dims, []int64{2, 4, 3}) || w.RawData[12] != bytesOf(-1)[0] {
		t.Errorf("conv.weight.int8: %v %v %v", w.DataType, w.Dims, w.RawData)
	}
	if n := node("conv.weight"); n.OpType != "DequantizeLinear" || !slices.Equal(n.Inputs, []string{"conv.weight.int8", "conv.weight.scale", "conv.weight.zero_point"}) {
		t.Errorf("conv.weight comes from %s %v", n.OpType, n.Inputs)
	} else if a, ok := n.Attribute("axis"); !ok || a.I != 0 {
		t.Errorf("conv.weight's DequantizeLinear axis: %v", a)
	}
	if z := init("conv.weight.zero_point"); z.DataType != onnx.Int8 || !slices.Equal(z.RawData, []byte{0, 0}) {
		t.Errorf("conv.weight.zero_point: %v %v", z.DataType, z.RawData)
	}
	// Its input: Q/DQ with the static scale, uint8 zero point 128.
	conv := node("conv")
	dq := node(conv.Inputs[0])
	q := node(dq.Inputs[0])
	if dq.OpType != "DequantizeLinear" || q.OpType != "QuantizeLinear" || q.Inputs[0] != "ncl" {
		t.Errorf("conv input: %s ← %s ← %v", dq.OpType, q.OpType, q.Inputs)
	}
	if s := init(q.Inputs[1]); math.Float32frombits(uint32(s.RawData[0])|uint32(s.RawData[1])<<8|uint32(s.RawData[2])<<16|uint32(s.RawData[3])<<24) != 0.05 {
		t.Errorf("input scale %v", s.RawData)
	}
	if z := init(q.Inputs[2]); z.DataType != onnx.Uint8 || !slices.Equal(z.RawData, []byte{128}) || len(z.Dims) != 0 {
		t.Errorf("input zero point %v %v %v", z.DataType, z.Dims, z.RawData)
	}
	// The Linear: dynamic quantization over the int8 weight [in, out].
	if w := init("fc.weight_t.int8"); !slices.Equal(w.Dims, []int64{2, 3}) || !slices.Equal(w.RawData, bytesOf(1, 3, 5, 2, 4, 6)) {
		t.Errorf("fc.weight_t.int8: %v %v", w.Dims, w.RawData)
	}
	if n := node("logits.matmul"); n.OpType != "MatMulInteger" || node(n.Inputs[0]).OpType != "DynamicQuantizeLinear" {
		t.Errorf("logits.matmul: %s on %v", n.OpType, n.Inputs)
	}
	if n := node("logits"); n.OpType != "Add" || n.Inputs[1] != "fc.bias" {
		t.Errorf("logits: %s %v", n.OpType, n.Inputs)
	}
	// The embedding: int8 rows times their gathered scales.
	if n := node("embedded"); n.OpType != "Mul" || node(n.Inputs[0]).OpType != "Cast" || node(node(n.Inputs[0]).Inputs[0]).Inputs[0] != "emb.weight.int8" {
		t.Errorf("embedded: %s %v", n.OpType, n.Inputs)
	}
	for _, x := range g.Graph.Initializers {
		if x.Name == "emb.weight" || x.Name == "fc.weight" || x.Name == "conv.weight" {
			t.Errorf("float32 initializer %q of an int8 weight", x.Name)
		}
	}
}

// TestQDQProblems: a malformed int8 weight is reported, naming its tensor,
// as every other problem of the weights is.
func TestQDQProblems(t *testing.T) {
	edit := func(f func([]safetensors.Tensor) []safetensors.Tensor) []safetensors.Tensor {
		return f(qdqWeights())
	}
	set := func(name string, g func(*safetensors.Tensor)) []safetensors.Tensor {
		return edit(func(ts []safetensors.Tensor) []safetensors.Tensor {
			for i := range ts {
				if ts[i].Name == name {
					g(&ts[i])
				}
			}
			return ts
		})
	}
	drop := func(name string) []safetensors.Tensor {
		return edit(func(ts []safetensors.Tensor) []safetensors.Tensor {
			return slices.DeleteFunc(ts, func(x safetensors.Tensor) bool { return x.Name == name })
		})
	}
	for _, tc := range []struct {
		name    string
		weights []safetensors.Tensor
		want    string
	}{
		{"no scale", drop("fc.weight.scale"), `no "fc.weight.scale"`},
		{"scales for other rows", set("fc.weight.scale", func(x *safetensors.Tensor) { *x = safetensors.F32(x.Name, []int{2}, []float32{1, 1}) }), `"fc.weight.scale" has 2 scales for 3 rows`},
		{"zero scale", set("conv.weight.scale", func(x *safetensors.Tensor) { *x = safetensors.F32(x.Name, []int{2}, []float32{1, 0}) }), `"conv.weight.scale": scale 1 is 0`},
		{"NaN scale", set("conv.weight.scale", func(x *safetensors.Tensor) {
			*x = safetensors.F32(x.Name, []int{2}, []float32{float32(math.NaN()), 1})
		}), `"conv.weight.scale": scale 0 is NaN`},
		{"−128", set("fc.weight.int8", func(x *safetensors.Tensor) { x.Data = slices.Clone(x.Data); x.Data[4] = 0x80 }), `"fc.weight.int8": value 4 is −128`},
		{"short", set("fc.weight.int8", func(x *safetensors.Tensor) { x.Data = x.Data[:5] }), `"fc.weight.int8": 5 bytes for shape [3 2]`},
		{"not I8", set("fc.weight.int8", func(x *safetensors.Tensor) { x.Dtype = "U8" }), `"fc.weight.int8" is U8, expected I8`},
		{"negative input scale", set("conv.weight.input_scale", func(x *safetensors.Tensor) {
			*x = safetensors.F32(x.Name, []int{1}, []float32{-1})
		}), `"conv.weight.input_scale": expected one finite positive F32 scale`},
		{"float and int8", append(qdqWeights(), safetensors.F32("fc.weight", []int{3, 2}, make([]float32, 6))), `"fc.weight" is given both as float32 and as int8`},
		{"stray input scale", append(qdqWeights(), safetensors.F32("x.weight.input_scale", []int{1}, []float32{1})), `"x.weight.input_scale" belongs to no int8 weight`},
		{"stray scale", append(qdqWeights(), safetensors.F32("x.weight.scale", []int{1}, []float32{1})), `unexpected tensor "x.weight.scale"`},
		{"other shape", set("fc.weight.int8", func(x *safetensors.Tensor) { x.Shape = []int{2, 3} }), `"fc.weight.scale" has 3 scales for 2 rows`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := buildQDQ(tc.weights)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %s", err, tc.want)
			}
		})
	}
	// The int8 weight's shape is checked against the config.
	ts := append(drop("fc.weight.int8"), int8Tensors("fc.weight", []int{2, 3}, []int8{1, 2, 3, 4, 5, 6}, []float32{0.1, 0.2}, 0)[0])
	ts = slices.DeleteFunc(ts, func(x safetensors.Tensor) bool { return x.Name == "fc.weight.scale" })
	ts = append(ts, safetensors.F32("fc.weight.scale", []int{2}, []float32{0.1, 0.2}))
	if _, err := buildQDQ(ts); err == nil || !strings.Contains(err.Error(), `"fc.weight" has shape [2 3], the config needs [3 2]`) {
		t.Errorf("error %v, want the shape named", err)
	}
}
