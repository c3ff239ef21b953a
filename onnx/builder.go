package onnx

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/tapeml/tapeml/safetensors"
)

// Metadata keys every builder sets. The export package may add its own.
const (
	MetaKind   = "tapeml.kind"   // the model kind, e.g. "textcnn"
	MetaConfig = "tapeml.config" // the architecture config as JSON
)

// BatchDim is the symbolic batch dimension of every graph input and output.
var BatchDim = Dim{Param: "batch"}

// GraphBuilder assembles one model's graph from its checkpoint weights;
// each model kind's package writes its graph with one (its ONNX method). It
// collects every problem with the weights (missing, wrong shape or dtype,
// duplicated, left over) so that one error lists them all, as
// checkpoint.LoadWeights does.
type GraphBuilder struct {
	kind     string
	g        Graph
	weights  map[string]safetensors.Tensor
	used     map[string]bool
	problems []string
	quant    map[string]*quantWeight // the weights given in int8 (quant.go)
	contrib  bool                    // a node of ONNX Runtime's contrib domain
}

// NewGraphBuilder indexes weights by name. Weights in an int8
// checkpoint's form (W.int8, W.scale, W.input_scale) are written in QDQ
// form (quant.go); Weight reads them dequantized.
func NewGraphBuilder(kind string, weights []safetensors.Tensor) *GraphBuilder {
	b := &GraphBuilder{kind: kind, g: Graph{Name: "tapeml_" + kind}, weights: map[string]safetensors.Tensor{}, used: map[string]bool{}}
	weights, b.quant, b.problems = splitQuant(weights)
	for _, t := range weights {
		if _, dup := b.weights[t.Name]; dup {
			b.problems = append(b.problems, fmt.Sprintf("tensor %q appears twice", t.Name))
		}
		b.weights[t.Name] = t
	}
	return b
}

// Weight returns the float32 values of the tensor called name, which must
// have the given shape. On a problem it records it and returns zeros, so
// that building goes on and every problem is reported.
func (b *GraphBuilder) Weight(name string, shape ...int) []float32 {
	n := 1
	for _, d := range shape {
		n *= d
	}
	zeros := make([]float32, n)
	t, ok := b.weights[name]
	if !ok {
		b.problems = append(b.problems, fmt.Sprintf("missing %q %v", name, shape))
		return zeros
	}
	b.used[name] = true
	if !slices.Equal(t.Shape, shape) {
		b.problems = append(b.problems, fmt.Sprintf("%q has shape %v, the config needs %v", name, t.Shape, shape))
		return zeros
	}
	v, err := t.Float32s()
	if err != nil {
		b.problems = append(b.problems, err.Error())
		return zeros
	}
	return v
}

// Param adds the weight called name, unchanged, as an initializer of the
// same name and returns that name. An int8 weight is its int8 initializer
// dequantized per row by a DequantizeLinear node called name.
func (b *GraphBuilder) Param(name string, shape ...int) string {
	if q := b.quantFor(name, shape); q != nil {
		return b.dequantized(name, shape, q.q, q.scale, 0)
	}
	return b.Floats(name, shape, b.Weight(name, shape...))
}

// Floats adds a float32 initializer and returns its name.
func (b *GraphBuilder) Floats(name string, shape []int, v []float32) string {
	b.g.Initializers = append(b.g.Initializers, floatTensor(name, dims64(shape), v))
	return name
}

// Int64s adds an int64 initializer (a constant operand such as a shape or
// an axes list) and returns its name.
func (b *GraphBuilder) Int64s(name string, shape []int, v ...int64) string {
	b.g.Initializers = append(b.g.Initializers, int64Tensor(name, dims64(shape), v))
	return name
}

// Int32s adds an int32 initializer and returns its name.
func (b *GraphBuilder) Int32s(name string, shape []int, v ...int32) string {
	b.g.Initializers = append(b.g.Initializers, int32Tensor(name, dims64(shape), v))
	return name
}

// Op adds a node with one output, named out (the node takes the same
// name), and returns out.
func (b *GraphBuilder) Op(out, opType string, inputs []string, attrs ...Attribute) string {
	b.g.Nodes = append(b.g.Nodes, Node{Name: out, OpType: opType, Inputs: inputs, Outputs: []string{out}, Attributes: attrs})
	return out
}

// OpN adds a node with several outputs ("" for an omitted optional one),
// named name.
func (b *GraphBuilder) OpN(name, opType string, inputs, outputs []string, attrs ...Attribute) {
	b.g.Nodes = append(b.g.Nodes, Node{Name: name, OpType: opType, Inputs: inputs, Outputs: outputs, Attributes: attrs})
}

// Gemm adds y = x·Wᵀ + b for the PyTorch Linear layer called layer
// ("<layer>.weight" [out, in], "<layer>.bias" [out]); for an int8 weight,
// with x quantized dynamically (quant.go).
func (b *GraphBuilder) Gemm(out, x, layer string, in, outWidth int) string {
	if q := b.quantFor(layer+".weight", []int{outWidth, in}); q != nil {
		return b.dynamicLinear(out, x, layer, q, b.Param(layer+".bias", outWidth))
	}
	return b.GemmFloat(out, x, layer, in, outWidth)
}

// GemmFloat is Gemm in float32 even for an int8 weight (dequantized by
// Param): for a layer that tapeml runs in float32 although its weight has
// an int8 form (the attention's input projection when only some of its
// parts do).
func (b *GraphBuilder) GemmFloat(out, x, layer string, in, outWidth int) string {
	w := b.Param(layer+".weight", outWidth, in)
	bias := b.Param(layer+".bias", outWidth)
	return b.Op(out, "Gemm", []string{x, w, bias}, attrInt("transB", 1))
}

// LayerNorm adds PyTorch's nn.LayerNorm(width, eps) called name over the
// last axis of x, with the weight "<name>.weight" (γ) and "<name>.bias"
// (β), both [width], and returns its output. Opset 13 has no
// LayerNormalization op, so it is written out: (x − mean) / √(var + eps)
// · γ + β, var the biased variance, as ReduceMean, Sub, Mul, Add, Sqrt and
// Div.
func (b *GraphBuilder) LayerNorm(name, x string, width int, eps float64) string {
	axes := attrInts("axes", -1)
	keep := attrInt("keepdims", 1)
	mean := b.Op(name+".mean", "ReduceMean", []string{x}, axes, keep)
	d := b.Op(name+".centred", "Sub", []string{x, mean})
	v := b.Op(name+".var", "ReduceMean", []string{b.Op(name+".sq", "Mul", []string{d, d})}, axes, keep)
	sd := b.Op(name+".sd", "Sqrt", []string{b.Op(name+".var_eps", "Add", []string{v, b.Floats(name+".eps", nil, []float32{float32(eps)})})})
	y := b.Op(name+".normed", "Div", []string{d, sd})
	y = b.Op(name+".scaled", "Mul", []string{y, b.Param(name+".weight", width)})
	return b.Op(name+".out", "Add", []string{y, b.Param(name+".bias", width)})
}

// Input declares a graph input.
func (b *GraphBuilder) Input(name string, t DataType, shape ...Dim) {
	b.g.Inputs = append(b.g.Inputs, ValueInfo{Name: name, ElemType: t, Shape: shape})
}

// Output declares a graph output.
func (b *GraphBuilder) Output(name string, t DataType, shape ...Dim) {
	b.g.Outputs = append(b.g.Outputs, ValueInfo{Name: name, ElemType: t, Shape: shape})
}

// Finish reports the weights' problems, if any, or returns the model with
// the kind and config in its metadata. Tensors the graph did not use are
// problems too (a config that does not match the checkpoint), except
// BatchNorm's num_batches_tracked counters, which inference ignores.
func (b *GraphBuilder) Finish(config any, doc string) (*Model, error) {
	var extra []string
	for name := range b.weights {
		if !b.used[name] && !strings.HasSuffix(name, ".num_batches_tracked") {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	for _, name := range extra {
		b.problems = append(b.problems, fmt.Sprintf("unexpected tensor %q", name))
	}
	if len(b.problems) > 0 {
		return nil, fmt.Errorf("onnx: %s: the weights do not fit the config: %s", b.kind, strings.Join(b.problems, "; "))
	}
	cfg, err := json.Marshal(config)
	if err != nil {
		return nil, fmt.Errorf("onnx: %s: config: %w", b.kind, err)
	}
	b.g.DocString = doc
	opsets := []OpsetID{{Version: Opset}}
	if b.contrib {
		opsets = append(opsets, OpsetID{Domain: MSDomain, Version: 1})
	}
	return &Model{
		IRVersion:    IRVersion,
		OpsetImports: opsets,
		ProducerName: Producer,
		Graph:        b.g,
		Metadata:     map[string]string{MetaKind: b.kind, MetaConfig: string(cfg)},
	}, nil
}

// dims64 converts a shape; a scalar's is nil, as Unmarshal reads it back.
func dims64(shape []int) []int64 {
	if len(shape) == 0 {
		return nil
	}
	d := make([]int64, len(shape))
	for i, x := range shape {
		d[i] = int64(x)
	}
	return d
}

// Attributes of a node.

// IntAttr is an integer attribute.
func IntAttr(name string, v int64) Attribute { return attrInt(name, v) }

// IntsAttr is an integer-list attribute.
func IntsAttr(name string, v ...int64) Attribute { return attrInts(name, v...) }

// FloatAttr is a float attribute.
func FloatAttr(name string, v float32) Attribute { return attrFloat(name, v) }

// StringAttr is a string attribute.
func StringAttr(name, v string) Attribute { return attrString(name, v) }
