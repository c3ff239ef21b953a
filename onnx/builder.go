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

// batchDim is the symbolic batch dimension of every graph input and output.
var batchDim = Dim{Param: "batch"}

// graphBuilder assembles one model's graph from its checkpoint weights. It
// collects every problem with the weights (missing, wrong shape or dtype,
// duplicated, left over) so that one error lists them all, as
// train.LoadWeights does.
type graphBuilder struct {
	kind     string
	g        Graph
	weights  map[string]safetensors.Tensor
	used     map[string]bool
	problems []string
}

// newGraphBuilder indexes weights by name.
func newGraphBuilder(kind string, weights []safetensors.Tensor) *graphBuilder {
	b := &graphBuilder{kind: kind, g: Graph{Name: "tapeml_" + kind}, weights: map[string]safetensors.Tensor{}, used: map[string]bool{}}
	for _, t := range weights {
		if _, dup := b.weights[t.Name]; dup {
			b.problems = append(b.problems, fmt.Sprintf("tensor %q appears twice", t.Name))
		}
		b.weights[t.Name] = t
	}
	return b
}

// weight returns the float32 values of the tensor called name, which must
// have the given shape. On a problem it records it and returns zeros, so
// that building goes on and every problem is reported.
func (b *graphBuilder) weight(name string, shape ...int) []float32 {
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

// param adds the weight called name, unchanged, as an initializer of the
// same name and returns that name.
func (b *graphBuilder) param(name string, shape ...int) string {
	return b.floats(name, shape, b.weight(name, shape...))
}

// floats adds a float32 initializer and returns its name.
func (b *graphBuilder) floats(name string, shape []int, v []float32) string {
	b.g.Initializers = append(b.g.Initializers, floatTensor(name, dims64(shape), v))
	return name
}

// int64s adds an int64 initializer (a constant operand such as a shape or
// an axes list) and returns its name.
func (b *graphBuilder) int64s(name string, shape []int, v ...int64) string {
	b.g.Initializers = append(b.g.Initializers, int64Tensor(name, dims64(shape), v))
	return name
}

// int32s adds an int32 initializer and returns its name.
func (b *graphBuilder) int32s(name string, shape []int, v ...int32) string {
	b.g.Initializers = append(b.g.Initializers, int32Tensor(name, dims64(shape), v))
	return name
}

// op adds a node with one output, named out (the node takes the same
// name), and returns out.
func (b *graphBuilder) op(out, opType string, inputs []string, attrs ...Attribute) string {
	b.g.Nodes = append(b.g.Nodes, Node{Name: out, OpType: opType, Inputs: inputs, Outputs: []string{out}, Attributes: attrs})
	return out
}

// opN adds a node with several outputs ("" for an omitted optional one),
// named name.
func (b *graphBuilder) opN(name, opType string, inputs, outputs []string, attrs ...Attribute) {
	b.g.Nodes = append(b.g.Nodes, Node{Name: name, OpType: opType, Inputs: inputs, Outputs: outputs, Attributes: attrs})
}

// gemm adds y = x·Wᵀ + b for the PyTorch Linear layer called layer
// ("<layer>.weight" [out, in], "<layer>.bias" [out]).
func (b *graphBuilder) gemm(out, x, layer string, in, outWidth int) string {
	w := b.param(layer+".weight", outWidth, in)
	bias := b.param(layer+".bias", outWidth)
	return b.op(out, "Gemm", []string{x, w, bias}, attrInt("transB", 1))
}

func (b *graphBuilder) input(name string, t DataType, shape ...Dim) {
	b.g.Inputs = append(b.g.Inputs, ValueInfo{Name: name, ElemType: t, Shape: shape})
}

func (b *graphBuilder) output(name string, t DataType, shape ...Dim) {
	b.g.Outputs = append(b.g.Outputs, ValueInfo{Name: name, ElemType: t, Shape: shape})
}

// finish reports the weights' problems, if any, or returns the model with
// the kind and config in its metadata. Tensors the graph did not use are
// problems too (a config that does not match the checkpoint), except
// BatchNorm's num_batches_tracked counters, which inference ignores.
func (b *graphBuilder) finish(config any, doc string) (*Model, error) {
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
	return &Model{
		IRVersion:    IRVersion,
		OpsetImports: []OpsetID{{Version: Opset}},
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
