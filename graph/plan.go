package graph

import (
	"fmt"
	"reflect"
	"slices"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A plan runs a serving graph (Infer) without Gorgonia's tape machine:
// the graph's op nodes in topological order, each a kernel call over
// tensors laid out once, when the machine is compiled. A run binds the
// inputs by pointer and calls the kernels' forward in a plain loop, so
// nothing per node is looked up, checked, boxed or allocated — the tape's
// per-node work (values boxed per instruction, shapes inferred again,
// outputs reattached) cost as much as the work itself at batch 1.
//
// Values whose lifetimes do not overlap share a buffer: a value is dead
// after the last step that reads it, and its buffer is then free for a
// later step's output (never for the output of the step that reads it
// last: a kernel's output must not alias its inputs). The graph's output
// keeps a buffer of its own. The parameters are the nodes' own tensors,
// as the tape reads them.
//
// The nodes a plan covers are tapeml's kernels, Gorgonia's reshape (a
// view on its input's buffer, or a copy when it reads a model input,
// which the caller owns and may change between runs) and Gorgonia's
// element-wise add of two tensors of one shape (matrix factorization sums
// its terms so). A graph with any other node keeps the tape (Compile
// leaves plan nil).
type plan struct {
	steps  []planStep
	inputs [][]planArg   // per model input: where its tensor is read
	output *tensor.Dense // the graph's output, overwritten by each run
}

// planStep is one kernel call.
type planStep struct {
	k   kernel
	in  []*tensor.Dense // the kernel's inputs, model inputs rebound by each run
	out *tensor.Dense
	// When the kernel accumulates into its output, the output's values,
	// cleared first (typed here: Dense.Data would box them per run).
	zero32 []float32
	zero64 []float64
}

// planArg is an argument of a step that a model input fills.
type planArg struct{ step, arg int }

// run executes the plan over inputs, already checked against the graph's
// input shapes.
func (p *plan) run(inputs []*tensor.Dense) error {
	wakeHelpers()
	for i, args := range p.inputs {
		for _, a := range args {
			p.steps[a.step].in[a.arg] = inputs[i]
		}
	}
	for i := range p.steps {
		s := &p.steps[i]
		clear(s.zero32)
		clear(s.zero64)
		if err := s.k.forward(s.in, s.out); err != nil {
			return fmt.Errorf("%s: %w", s.k.name(), err)
		}
	}
	return nil
}

// Gorgonia's op types the plan knows, taken from ops built on a probe
// graph: their types are not exported.
var reshapeOpType, elemBinOpType, addOpString = func() (reflect.Type, reflect.Type, string) {
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float32, 2, G.WithShape(2, 3), G.WithName("x"))
	r := G.Must(G.Reshape(x, tensor.Shape{6}))
	a := G.Must(G.Add(x, x))
	return reflect.TypeOf(r.Op()), reflect.TypeOf(a.Op()), a.Op().String()
}()

// planValue is a node's value while a plan is laid out.
type planValue struct {
	t     *tensor.Dense // nil until laid out (intermediates) or for model inputs
	input int           // the model input it is, or −1
	buf   int           // the buffer holding it (intermediates), or −1
	shape tensor.Shape
	// A reshape of another intermediate is a view of that value's buffer.
	viewOf *G.Node
}

// planStepOf is a step before its tensors are laid out.
type planStepOf struct {
	node *G.Node
	k    kernel
	args []*G.Node
}

// newPlan lays out the plan of an Infer graph, or returns nil when a node
// is not one a plan runs (see plan): that graph keeps the tape.
func newPlan(g *G.ExprGraph, out Outputs) (*plan, error) {
	sorted, err := G.Sort(g)
	if err != nil {
		return nil, err
	}
	vals := map[*G.Node]*planValue{}
	for i, n := range out.Inputs {
		vals[n] = &planValue{input: i, buf: -1, shape: n.Shape()}
	}
	var order []planStepOf
	// Sort puts the roots first: walk it backwards, arguments first.
	for i := len(sorted) - 1; i >= 0; i-- {
		n := sorted[i]
		if _, ok := vals[n]; ok {
			continue
		}
		op := n.Op()
		_, isConst := op.(interface{ Value() G.Value })
		if op == nil || isConst { // parameters, buffers, constants
			t, ok := constValue(n.Value())
			if !ok {
				return nil, nil
			}
			vals[n] = &planValue{t: t, input: -1, buf: -1, shape: t.Shape()}
			continue
		}
		if n.Dims() == 0 {
			return nil, nil // scalars: Gorgonia boxes them, kernels do not meet them in serving graphs
		}
		args := children(g, n)
		v := &planValue{input: -1, buf: -1, shape: n.Shape()}
		switch {
		case isKernel(op):
			order = append(order, planStepOf{node: n, k: op.(*kernelOp).k, args: args})
		case reflect.TypeOf(op) == reshapeOpType && len(args) == 1 && n.Dtype() == args[0].Dtype() &&
			args[0].Shape().TotalSize() == n.Shape().TotalSize():
			if src := vals[args[0]]; src.input >= 0 || src.t != nil {
				// A model input, which the caller owns, or a parameter:
				// copied.
				order = append(order, planStepOf{node: n, k: copyKernel{}, args: args})
			} else {
				v.viewOf = args[0]
			}
		case reflect.TypeOf(op) == elemBinOpType && op.String() == addOpString && len(args) == 2 &&
			args[0].Dims() > 0 && args[0].Shape().Eq(args[1].Shape()) && args[0].Shape().Eq(n.Shape()):
			order = append(order, planStepOf{node: n, k: typed(n.Dtype(), addKernel[float32]{}, addKernel[float64]{}), args: args})
		default:
			return nil, nil
		}
		vals[n] = v
	}
	if v := vals[out.Output]; v == nil || v.input >= 0 || v.t != nil {
		return nil, nil // the output is an input or a parameter: nothing to run
	}

	// A value lives until the last step that reads it or one of its views
	// (root: the value a view's buffer belongs to); the output to the end.
	root := func(n *G.Node) *G.Node {
		for vals[n].viewOf != nil {
			n = vals[n].viewOf
		}
		return n
	}
	lastRead := map[*G.Node]int{}
	for i, s := range order {
		for _, a := range s.args {
			lastRead[root(a)] = i
		}
	}
	lastRead[root(out.Output)] = len(order)

	// Each step's output takes the free buffer of its type that fits
	// best, else grows the largest free one, else is a new buffer; after
	// the step, the buffers of the values it read for the last time are
	// free (a value never read frees its own).
	type buffer struct {
		size int
		dt   tensor.Dtype
		data any // []float32 or []float64
	}
	var bufs []*buffer
	var free []int
	for i, s := range order {
		v := vals[s.node]
		size, dt := max(v.shape.TotalSize(), 1), s.node.Dtype()
		pick := -1
		for j, b := range free {
			if bufs[b].dt != dt {
				continue
			}
			if pick < 0 {
				pick = j
				continue
			}
			have, cand := bufs[free[pick]].size, bufs[b].size
			if cand >= size && (have < size || cand < have) || have < size && cand < size && cand > have {
				pick = j
			}
		}
		if pick >= 0 {
			v.buf = free[pick]
			free = append(free[:pick], free[pick+1:]...)
			bufs[v.buf].size = max(bufs[v.buf].size, size)
		} else {
			v.buf = len(bufs)
			bufs = append(bufs, &buffer{size: size, dt: dt})
		}
		for j, a := range s.args {
			r := root(a)
			if rv := vals[r]; rv.buf >= 0 && lastRead[r] == i && !slices.Contains(s.args[:j], a) {
				free = append(free, rv.buf)
			}
		}
		if _, read := lastRead[s.node]; !read {
			free = append(free, v.buf)
		}
	}
	for _, b := range bufs {
		switch b.dt {
		case tensor.Float32:
			b.data = make([]float32, b.size)
		case tensor.Float64:
			b.data = make([]float64, b.size)
		default:
			return nil, nil
		}
	}
	tensorOf := func(n *G.Node) *tensor.Dense {
		v := vals[n]
		if v.t == nil {
			b := bufs[vals[root(n)].buf]
			size := max(v.shape.TotalSize(), 1)
			var backing any
			switch d := b.data.(type) {
			case []float32:
				backing = d[:size:size]
			case []float64:
				backing = d[:size:size]
			}
			v.t = tensor.New(tensor.WithShape(v.shape...), tensor.Of(b.dt), tensor.WithBacking(backing))
		}
		return v.t
	}
	p := &plan{inputs: make([][]planArg, len(out.Inputs))}
	for _, s := range order {
		step := planStep{k: s.k, out: tensorOf(s.node), in: make([]*tensor.Dense, len(s.args))}
		if !writesAll(s.k, -1) {
			switch d := step.out.Data().(type) {
			case []float32:
				step.zero32 = d
			case []float64:
				step.zero64 = d
			}
		}
		for j, a := range s.args {
			if v := vals[a]; v.input >= 0 {
				p.inputs[v.input] = append(p.inputs[v.input], planArg{step: len(p.steps), arg: j})
			} else {
				step.in[j] = tensorOf(a)
			}
		}
		p.steps = append(p.steps, step)
	}
	p.output = tensorOf(out.Output)
	return p, nil
}

func isKernel(op G.Op) bool {
	_, ok := op.(*kernelOp)
	return ok
}

// children returns n's arguments in order.
func children(g *G.ExprGraph, n *G.Node) []*G.Node {
	it := g.From(n.ID())
	var out []*G.Node
	for it.Next() {
		out = append(out, it.Node().(*G.Node))
	}
	return out
}

// constValue is a parameter's or constant's value as a dense tensor.
func constValue(v G.Value) (*tensor.Dense, bool) {
	switch v := v.(type) {
	case *tensor.Dense:
		return v, !v.IsView()
	case *G.F32:
		return tensor.New(tensor.FromScalar(float32(*v))), true
	case *G.F64:
		return tensor.New(tensor.FromScalar(float64(*v))), true
	}
	return nil, false
}

// copyKernel is a plan's reshape of a tensor it does not own: a copy in
// the new shape.
type copyKernel struct{}

func (copyKernel) name() string                                     { return "Reshape(copy)" }
func (copyKernel) differentiable() []bool                           { return []bool{false} }
func (copyKernel) outShape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }
func (copyKernel) writesAll(int) bool                               { return true }

func (copyKernel) forward(in []*tensor.Dense, out *tensor.Dense) error {
	switch d := out.Data().(type) {
	case []float32:
		copy(d, in[0].Float32s())
	case []float64:
		copy(d, in[0].Float64s())
	default:
		return fmt.Errorf("dtype %v", out.Dtype())
	}
	return nil
}

func (copyKernel) backward([]*tensor.Dense, *tensor.Dense, *tensor.Dense, int, *tensor.Dense) error {
	return errInferOnly
}
