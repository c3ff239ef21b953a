package onnx

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/safetensors"
)

// QDQ: the int8 form of a graph.
//
// A weight W given to NewGraphBuilder in its int8 form, as an int8
// checkpoint stores it (package checkpoint: W.int8 I8 [W's shape], W.scale
// F32 [rows], and for a layer whose input has a static scale
// W.input_scale F32 [1]), is written in ONNX Runtime's QDQ format:
//
//	W.int8 (int8), W.scale [rows], W.zero_point (int8 zeros) → DequantizeLinear(axis 0) → W
//
// so every op reads W as before, and the layers that tapeml runs in int8
// get the activation quantization of tapeml's int8 kernels:
//
//   - a convolution whose weight has an input scale s (calibrated):
//     x → QuantizeLinear(s, zero point 128, uint8) → DequantizeLinear →
//     Conv. That is tapeml's symmetric int8 with zero point 0 shifted by
//     128 (ONNX Runtime's x86 int8 kernels take uint8 activations); both
//     round half to even (QuantizeLinear divides by s where tapeml
//     multiplies by 1/s, which can move a value on a rounding tie);
//   - a Linear (GraphBuilder.Gemm): dynamic quantization, as
//     onnxruntime.quantization.quantize_dynamic writes it, since a
//     dynamic scale has no QDQ form that ONNX Runtime fuses (a
//     DequantizeLinear → MatMul → Add becomes a float Gemm first):
//     DynamicQuantizeLinear(x) (uint8, one scale and zero point for the
//     tensor) → MatMulInteger with the int8 weight transposed to
//     [in, out] → Cast → Mul(x scale · per-column weight scales) →
//     Add(bias), which ONNX Runtime fuses into DynamicQuantizeMatMul
//     (uint8 × int8 products, int32 sums). tapeml quantizes each row with
//     its own symmetric scale instead, which ONNX's ops cannot say: the
//     two differ in rounding;
//   - an embedding table (GraphBuilder.Embedding): the int8 rows and
//     their scales are gathered, then multiplied, rather than the whole
//     table dequantized per run;
//   - an LSTM layer whose weights are all int8 (models/lstm): ONNX Runtime's
//     contrib op com.microsoft.DynamicQuantizeLSTM, as quantize_dynamic
//     writes it (opset 13's LSTM takes float weights only).
//
// A weight given as float32 stays float32: a checkpoint whose layer has no
// int8 entry exports that layer as before.

// MSDomain is ONNX Runtime's contrib operator domain.
const MSDomain = "com.microsoft"

// quantWeight is the int8 form of one weight.
type quantWeight struct {
	q          []int8
	shape      []int
	scale      []float32
	inputScale float32 // 0: the layer's input is quantized dynamically
}

// splitQuant takes the int8 forms out of weights: it returns the other
// tensors, with each int8 weight replaced by its dequantized float32
// tensor (what Weight reads), the int8 forms by weight name, and the
// problems found.
func splitQuant(weights []safetensors.Tensor) ([]safetensors.Tensor, map[string]*quantWeight, []string) {
	byName := map[string]safetensors.Tensor{}
	for _, t := range weights {
		byName[t.Name] = t
	}
	var problems []string
	quant := map[string]*quantWeight{}
	part := map[string]bool{}
	for _, t := range weights {
		name, ok := strings.CutSuffix(t.Name, checkpoint.SuffixInt8)
		if !ok {
			continue
		}
		part[t.Name], part[name+checkpoint.SuffixScale], part[name+checkpoint.SuffixInputScale] = true, true, true
		q, err := readQuant(name, t, byName)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if _, clash := byName[name]; clash {
			problems = append(problems, fmt.Sprintf("%q is given both as float32 and as int8", name))
			continue
		}
		quant[name] = q
	}
	var out []safetensors.Tensor
	for _, t := range weights {
		if strings.HasSuffix(t.Name, checkpoint.SuffixInputScale) && !part[t.Name] {
			problems = append(problems, fmt.Sprintf("tensor %q belongs to no int8 weight", t.Name))
		}
		if part[t.Name] {
			if name, ok := strings.CutSuffix(t.Name, checkpoint.SuffixInt8); ok && quant[name] != nil {
				q := quant[name]
				w := make([]float32, len(q.q))
				q.dequantize(w)
				out = append(out, safetensors.F32(name, q.shape, w))
			}
			continue
		}
		out = append(out, t)
	}
	return out, quant, problems
}

// readQuant reads weight name's int8 form from its tensors.
func readQuant(name string, qt safetensors.Tensor, byName map[string]safetensors.Tensor) (*quantWeight, error) {
	if qt.Dtype != "I8" {
		return nil, fmt.Errorf("%q is %s, expected I8", qt.Name, qt.Dtype)
	}
	n := 1
	for _, d := range qt.Shape {
		if d < 1 {
			return nil, fmt.Errorf("%q has shape %v", qt.Name, qt.Shape)
		}
		n *= d
	}
	if len(qt.Shape) == 0 || len(qt.Data) != n {
		return nil, fmt.Errorf("%q: %d bytes for shape %v", qt.Name, len(qt.Data), qt.Shape)
	}
	st, ok := byName[name+checkpoint.SuffixScale]
	if !ok {
		return nil, fmt.Errorf("no %q for %q", name+checkpoint.SuffixScale, qt.Name)
	}
	scale, err := st.Float32s()
	if err != nil {
		return nil, err
	}
	if len(scale) != qt.Shape[0] {
		return nil, fmt.Errorf("%q has %d scales for %d rows", st.Name, len(scale), qt.Shape[0])
	}
	for i, s := range scale {
		if !(s > 0) || math.IsInf(float64(127*s), 0) {
			return nil, fmt.Errorf("%q: scale %d is %v, expected a positive number whose weights are finite", st.Name, i, s)
		}
	}
	q := &quantWeight{q: make([]int8, n), shape: slices.Clone(qt.Shape), scale: scale}
	for i, b := range qt.Data {
		if q.q[i] = int8(b); q.q[i] == -128 {
			return nil, fmt.Errorf("%q: value %d is −128, outside the symmetric range [−127, 127]", qt.Name, i)
		}
	}
	if it, ok := byName[name+checkpoint.SuffixInputScale]; ok {
		v, err := it.Float32s()
		if err != nil || len(v) != 1 || !(v[0] > 0) || math.IsInf(float64(v[0]), 0) {
			return nil, fmt.Errorf("%q: expected one finite positive F32 scale (%v, %v)", it.Name, v, err)
		}
		q.inputScale = v[0]
	}
	return q, nil
}

func (q *quantWeight) rows() int { return q.shape[0] }

func (q *quantWeight) cols() int { return len(q.q) / q.shape[0] }

// dequantize writes q·scale to w.
func (q *quantWeight) dequantize(w []float32) {
	cols := q.cols()
	for r, s := range q.scale {
		for c, v := range q.q[r*cols : (r+1)*cols] {
			w[r*cols+c] = float32(v) * s
		}
	}
}

// quantFor is the int8 form of the weight name of the given shape, and
// marks it used; nil (and no problem) for a float32 weight.
func (b *GraphBuilder) quantFor(name string, shape []int) *quantWeight {
	q := b.quant[name]
	if q == nil {
		return nil
	}
	b.used[name] = true
	if !slices.Equal(q.shape, shape) {
		b.problems = append(b.problems, fmt.Sprintf("%q has shape %v, the config needs %v", name, q.shape, shape))
		return nil
	}
	return q
}

// Quantized reports whether the weight name is given in int8.
func (b *GraphBuilder) Quantized(name string) bool { return b.quant[name] != nil }

// QuantWeight returns the int8 values and per-row scales of the weight
// name, which must have the given shape, and marks it used; ok is false
// for a float32 weight (or a problem, recorded).
func (b *GraphBuilder) QuantWeight(name string, shape ...int) (q []int8, scale []float32, ok bool) {
	w := b.quantFor(name, shape)
	if w == nil {
		return nil, nil, false
	}
	return w.q, w.scale, true
}

// dequantized adds the int8 initializer name+".int8" [shape], its scales
// name+".scale" (along axis) and zero points name+".zero_point", and a
// DequantizeLinear node whose output is called name; it returns name.
func (b *GraphBuilder) dequantized(name string, shape []int, q []int8, scale []float32, axis int) string {
	qi := b.Int8s(name+checkpoint.SuffixInt8, shape, q...)
	si := b.Floats(name+checkpoint.SuffixScale, []int{len(scale)}, scale)
	zi := b.Int8s(name+".zero_point", []int{len(scale)}, make([]int8, len(scale))...)
	return b.Op(name, "DequantizeLinear", []string{qi, si, zi}, IntAttr("axis", int64(axis)))
}

// Int8s adds an int8 initializer and returns its name.
func (b *GraphBuilder) Int8s(name string, shape []int, v ...int8) string {
	raw := make([]byte, len(v))
	for i, x := range v {
		raw[i] = byte(x)
	}
	b.g.Initializers = append(b.g.Initializers, Tensor{Name: name, DataType: Int8, Dims: dims64(shape), RawData: raw})
	return name
}

// Uint8s adds a uint8 initializer and returns its name.
func (b *GraphBuilder) Uint8s(name string, shape []int, v ...uint8) string {
	b.g.Initializers = append(b.g.Initializers, Tensor{Name: name, DataType: Uint8, Dims: dims64(shape), RawData: slices.Clone(v)})
	return name
}

// ConvInput returns x quantized as the convolution whose weight is weight
// reads it: through QuantizeLinear and DequantizeLinear with the weight's
// static input scale (zero point 128, uint8), or x itself when the weight
// is float32 or has no input scale.
func (b *GraphBuilder) ConvInput(x, weight string) string {
	q := b.quant[weight]
	if q == nil || q.inputScale == 0 {
		return x
	}
	s := b.Floats(weight+".input_scale", nil, []float32{q.inputScale})
	z := b.Uint8s(weight+".input_zero_point", nil, 128)
	xq := b.Op(weight+".input_q", "QuantizeLinear", []string{x, s, z})
	return b.Op(weight+".input_dq", "DequantizeLinear", []string{xq, s, z})
}

// Embedding adds Gather(table, ids) for the embedding table called name
// ([rows, cols]) and returns out: for an int8 table, the int8 rows times
// their scales.
func (b *GraphBuilder) Embedding(out, name string, rows, cols int, ids string) string {
	q := b.quantFor(name, []int{rows, cols})
	if q == nil {
		return b.Op(out, "Gather", []string{b.Param(name, rows, cols), ids})
	}
	qi := b.Int8s(name+checkpoint.SuffixInt8, q.shape, q.q...)
	si := b.Floats(name+checkpoint.SuffixScale, []int{rows}, q.scale)
	g := b.Op(out+".int8", "Gather", []string{qi, ids})
	g = b.Op(out+".float", "Cast", []string{g}, IntAttr("to", int64(Float)))
	s := b.Op(out+".scale", "Gather", []string{si, ids})
	s = b.Op(out+".scale_col", "Unsqueeze", []string{s, b.Int64s(out+".axes_last", []int{1}, -1)})
	return b.Op(out, "Mul", []string{g, s})
}

// dynamicLinear adds y = x·Wᵀ + bias for the int8 weight q [out, in] of
// layer, x quantized dynamically, and returns out.
func (b *GraphBuilder) dynamicLinear(out, x, layer string, q *quantWeight, bias string) string {
	in, n := q.cols(), q.rows()
	t := make([]int8, len(q.q)) // [in, out]
	for o := 0; o < n; o++ {
		for i := 0; i < in; i++ {
			t[i*n+o] = q.q[o*in+i]
		}
	}
	w := b.Int8s(layer+".weight_t"+checkpoint.SuffixInt8, []int{in, n}, t...)
	wz := b.Int8s(layer+".weight.zero_point", []int{n}, make([]int8, n)...)
	ws := b.Floats(layer+".weight"+checkpoint.SuffixScale, []int{n}, q.scale)
	xq, xs, xz := out+".x_q", out+".x_scale", out+".x_zero_point"
	b.OpN(out+".quantize", "DynamicQuantizeLinear", []string{x}, []string{xq, xs, xz})
	y := b.Op(out+".matmul", "MatMulInteger", []string{xq, w, xz, wz}) // int32
	y = b.Op(out+".float", "Cast", []string{y}, IntAttr("to", int64(Float)))
	y = b.Op(out+".scaled", "Mul", []string{y, b.Op(out+".scale", "Mul", []string{xs, ws})})
	return b.Op(out, "Add", []string{y, bias})
}

// ContribOpN adds a node of ONNX Runtime's contrib domain (MSDomain); the
// model then imports that domain.
func (b *GraphBuilder) ContribOpN(name, opType string, inputs, outputs []string, attrs ...Attribute) {
	b.g.Nodes = append(b.g.Nodes, Node{Name: name, OpType: opType, Domain: MSDomain, Inputs: inputs, Outputs: outputs, Attributes: attrs})
	b.contrib = true
}
