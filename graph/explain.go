package graph

import (
	"fmt"
	"strings"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// AttributionMachine is a model's evaluation graph (graph.Eval: dropout off,
// running statistics, the same ops as training and so their backward
// passes) compiled to return, besides the outputs, the gradient of a chosen
// combination of them,
//
//	target = Σ_i Σ_k sel[i, k]·out[i, k],
//
// with respect to the model's input — or, in a model with an embedding
// layer, with respect to the embedding's output, which the machine then
// takes as an input of its own instead of looking ids up. There is no loss
// and no parameter gradient. Examples do not interact in an Eval graph, so
// row i of the gradient is d(sel[i]·out[i])/d(input row i): one run gives
// the gradients of a whole batch of interpolation points.
//
// A machine is not safe for concurrent use; keep one per goroutine.
type AttributionMachine struct {
	N int // examples per run

	vm       G.VM
	inputs   []*G.Node // the model's inputs (ids of a text model are still bound: an LSTM's mask reads them)
	embedded *G.Node   // the embedding output's stand-in; nil when gradients are taken at inputs[0]
	lookup   embedLookup
	params   *Params
	sel      *G.Node
	out      *G.Node
	grad     *G.Node

	in    []*tensor.Dense
	emb   *tensor.Dense
	selT  *tensor.Dense
	width int // outputs per example
}

// CompileAttribution builds build's evaluation graph for n examples with
// gradients at the embedding output (if the model has one embedding) or
// at its first input (otherwise), and compiles it. Parameters are read
// from params, which must not change while the machine runs.
func CompileAttribution(build BuildFunc, params *Params, n int) (*AttributionMachine, error) {
	if n < 1 {
		return nil, fmt.Errorf("graph: attribution machine for %d examples", n)
	}
	b := NewBuilder(params, Eval, nil)
	b.attribution = true
	out, err := build(b, n)
	if err != nil {
		return nil, err
	}
	if out.Output == nil || len(out.Inputs) == 0 {
		return nil, fmt.Errorf("graph: the model's outputs lack an output or input node")
	}
	if out.Output.Dims() != 2 || out.Output.Shape()[0] != n {
		return nil, fmt.Errorf("graph: attribution needs outputs [N, K], the model gives %v", out.Output.Shape())
	}
	m := &AttributionMachine{N: n, inputs: out.Inputs, out: out.Output, width: out.Output.Shape()[1]}
	wrt := out.Inputs[0]
	switch len(b.embedded) {
	case 0:
	case 1:
		m.embedded, m.lookup, m.params = b.embedded[0], b.lookups[0], params
		wrt = m.embedded
	default:
		return nil, fmt.Errorf("graph: attribution at the embedding output needs one embedding, the model has %d", len(b.embedded))
	}
	m.sel = b.Input("attribution.select", n, m.width)
	target := mustApply(typed(b.Dtype(), selectSumKernel[float32]{}, selectSumKernel[float64]{}), out.Output, m.sel)
	gs, err := G.Grad(target, wrt)
	if err != nil {
		return nil, fmt.Errorf("graph: differentiating the selected outputs: %w", err)
	}
	m.grad = gs[0]
	dt := params.Dtype()
	for _, in := range out.Inputs {
		m.in = append(m.in, tensor.New(tensor.Of(dt), tensor.WithShape(in.Shape().Clone()...)))
	}
	if m.embedded != nil {
		m.emb = tensor.New(tensor.Of(dt), tensor.WithShape(m.embedded.Shape().Clone()...))
	}
	m.selT = tensor.New(tensor.Of(dt), tensor.WithShape(n, m.width))
	m.vm = G.NewTapeMachine(b.G)
	return m, nil
}

// Inputs are the tensors bound to the model's inputs on each run; fill
// them before Run. When gradients are taken at the embedding output, a
// text model's ids are still read by what depends on ids alone (an LSTM's
// padding mask), not by the embedding.
func (m *AttributionMachine) Inputs() []*tensor.Dense { return m.in }

// Embedded is the tensor standing in for the embedding output [N, T, D],
// or nil when the gradient is taken at the first input.
func (m *AttributionMachine) Embedded() *tensor.Dense { return m.emb }

// EmbeddingName is the name of the embedding layer whose output the
// gradient is taken at ("<name>.weight" is its table), or "".
func (m *AttributionMachine) EmbeddingName() string {
	if m.embedded == nil {
		return ""
	}
	return strings.TrimSuffix(m.embedded.Name(), ".output")
}

// Embed returns what the embedding layer gives for one row of ids [T]:
// its output [T·D], the values the machine's embedding input stands for.
func (m *AttributionMachine) Embed(ids []float32) ([]float32, error) {
	if m.embedded == nil {
		return nil, fmt.Errorf("graph: the attribution machine takes gradients at its input, not at an embedding")
	}
	table := m.params.Get(m.lookup.table)
	if table == nil || table.Value == nil {
		return nil, fmt.Errorf("graph: no parameter %q", m.lookup.table)
	}
	dt := m.params.Dtype()
	s := m.embedded.Shape()
	if len(ids) != s[1] {
		return nil, fmt.Errorf("graph: %d ids for an embedding of %d positions", len(ids), s[1])
	}
	in := tensor.New(tensor.Of(dt), tensor.WithShape(1, len(ids)))
	out := tensor.New(tensor.Of(dt), tensor.WithShape(1, s[1], s[2]))
	switch dt {
	case tensor.Float64:
		for i, v := range ids {
			in.Float64s()[i] = float64(v)
		}
	default:
		copy(in.Float32s(), ids)
	}
	if err := m.lookup.fn(in, table.Value, out); err != nil {
		return nil, err
	}
	if dt == tensor.Float64 {
		x := make([]float32, out.Shape().TotalSize())
		for i, v := range out.Float64s() {
			x[i] = float32(v)
		}
		return x, nil
	}
	return out.Float32s(), nil
}

// Select holds sel [N, K], the weight of each output in the target.
func (m *AttributionMachine) Select() *tensor.Dense { return m.selT }

// Width is the number of outputs per example (K).
func (m *AttributionMachine) Width() int { return m.width }

// Run binds the tensors and computes the outputs and the gradient.
func (m *AttributionMachine) Run() error {
	for i, n := range m.inputs {
		if err := G.Let(n, m.in[i]); err != nil {
			return fmt.Errorf("binding input %q: %w", n.Name(), err)
		}
	}
	if m.embedded != nil {
		if err := G.Let(m.embedded, m.emb); err != nil {
			return fmt.Errorf("binding the embedding output: %w", err)
		}
	}
	if err := G.Let(m.sel, m.selT); err != nil {
		return fmt.Errorf("binding the selection: %w", err)
	}
	defer m.vm.Reset()
	return m.vm.RunAll()
}

// Output is the last run's outputs [N, K]; overwritten by the next run.
func (m *AttributionMachine) Output() *tensor.Dense { return m.out.Value().(*tensor.Dense) }

// Grad is the last run's gradient, shaped as the embedding output or the
// first input; overwritten by the next run.
func (m *AttributionMachine) Grad() *tensor.Dense { return m.grad.Value().(*tensor.Dense) }

// embedLookup computes an embedding layer's output from its ids and
// table, as its forward pass does.
type embedLookup struct {
	table string
	fn    func(ids, table, out *tensor.Dense) error
}

// embeddingInput is what Embedding returns in an attribution graph: an
// input node [N, T, dim] that the caller fills with (interpolated)
// embedding vectors, which lookup computes from ids (Embed).
func (b *Builder) embeddingInput(name string, ids *G.Node, dim int, lookup func(ids, table, out *tensor.Dense) error) *G.Node {
	s := ids.Shape()
	x := b.Input(name+".output", s[0], s[1], dim)
	b.embedded = append(b.embedded, x)
	b.lookups = append(b.lookups, embedLookup{table: name + ".weight", fn: lookup})
	return x
}

// selectSumKernel: inputs out [N, K], sel [N, K]; output the scalar
// Σ out·sel.
type selectSumKernel[T float] struct{}

func (selectSumKernel[T]) name() string { return "SelectSum" }

func (selectSumKernel[T]) differentiable() []bool { return []bool{true, false} }

func (selectSumKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in[0]) != 2 || !in[0].Eq(in[1]) {
		return nil, fmt.Errorf("inputs %v and %v: expected two [N, K]", in[0], in[1])
	}
	return tensor.Shape{}, nil
}

func (selectSumKernel[T]) forward(in []*tensor.Dense, out *tensor.Dense) error {
	x, s := values[T](in[0]), values[T](in[1])
	var sum T
	for i, v := range x {
		sum += v * s[i]
	}
	values[T](out)[0] = sum
	return nil
}

func (selectSumKernel[T]) backward(in []*tensor.Dense, _, gOut *tensor.Dense, _ int, grad *tensor.Dense) error {
	s, g, d := values[T](in[1]), values[T](gOut)[0], values[T](grad)
	for i, v := range s {
		d[i] = g * v
	}
	return nil
}
