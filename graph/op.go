package graph

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync/atomic"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// kernel is a computation with hand-written forward and backward passes that
// Gorgonia runs as a single node. Its gradient with respect to each input is
// another node (gradOp) that calls backward, so the whole backward pass stays
// inside Gorgonia's symbolic differentiation and tape machine.
//
// A kernel may keep state from forward for backward (an argmax, a dropout
// mask): every node owns its kernel, and the tape runs a node's forward
// before the nodes of its gradient.
type kernel interface {
	// name identifies the kernel and its attributes, for printing.
	name() string
	// outShape checks the input shapes and returns the output's; a scalar
	// output has an empty shape.
	outShape(in []tensor.Shape) (tensor.Shape, error)
	// forward writes the output, which has outShape's shape.
	forward(in []*tensor.Dense, out *tensor.Dense) error
	// differentiable reports, per input, whether backward can give its gradient.
	differentiable() []bool
	// backward writes dLoss/dIn[wrt] into grad (zeroed, shaped as in[wrt]),
	// given the forward's inputs, its output and dLoss/dOut.
	backward(in []*tensor.Dense, out, gradOut *tensor.Dense, wrt int, grad *tensor.Dense) error
}

var opSerial atomic.Int64

// apply adds a node computing k over the inputs.
func apply(k kernel, inputs ...*G.Node) (*G.Node, error) {
	shapes := make([]tensor.Shape, len(inputs))
	for i, n := range inputs {
		shapes[i] = n.Shape()
	}
	s, err := k.outShape(shapes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.name(), err)
	}
	op := &kernelOp{k: k, inDims: dims(inputs), outDims: len(s), serial: opSerial.Add(1)}
	return G.ApplyOp(op, inputs...)
}

// mustApply is apply for layer builders whose shapes were already checked by
// the model: a mismatch there is a programmer error.
func mustApply(k kernel, inputs ...*G.Node) *G.Node {
	n, err := apply(k, inputs...)
	if err != nil {
		panic(err)
	}
	return n
}

func dims(nodes []*G.Node) []int {
	d := make([]int, len(nodes))
	for i, n := range nodes {
		d[i] = n.Dims()
	}
	return d
}

// tensorType is Gorgonia's type of a tensor of d dimensions over a; a scalar
// is the bare element type.
func tensorType(d int, a hm.Type) hm.Type {
	if d == 0 {
		return a
	}
	return &G.TensorType{Dims: d, Of: a}
}

// kernelOp is the forward node of a kernel.
type kernelOp struct {
	k       kernel
	inDims  []int
	outDims int
	serial  int64         // unique: Gorgonia merges nodes with equal hashes
	last    *tensor.Dense // the previous run's output, reused: the tape's Reset drops it
}

func (op *kernelOp) Arity() int { return len(op.inDims) }

func (op *kernelOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	ts := make(hm.Types, 0, len(op.inDims)+1)
	for _, d := range op.inDims {
		ts = append(ts, tensorType(d, a))
	}
	ts = append(ts, tensorType(op.outDims, a))
	return hm.NewFnType(ts...)
}

func (op *kernelOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	shapes := make([]tensor.Shape, len(in))
	for i, d := range in {
		s, ok := d.(tensor.Shape)
		if !ok {
			return nil, fmt.Errorf("%s: input %d has no shape", op.k.name(), i)
		}
		shapes[i] = s
	}
	return op.k.outShape(shapes)
}

func (op *kernelOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *kernelOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	ts, err := denses(op.k, in)
	if err != nil {
		return nil, err
	}
	shapes := make([]tensor.Shape, len(ts))
	for i, t := range ts {
		shapes[i] = t.Shape()
	}
	s, err := op.k.outShape(shapes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op.k.name(), err)
	}
	if prealloc == nil && op.last != nil {
		prealloc = op.last
	}
	out := reuse(prealloc, ts[0].Dtype(), s)
	if out == op.last && !writesAll(op.k, -1) {
		zero(out) // kernels may accumulate into their output
	}
	op.last = out
	if err := op.k.forward(ts, out); err != nil {
		return nil, fmt.Errorf("%s: %w", op.k.name(), err)
	}
	return out, nil
}

func (op *kernelOp) ReturnsPtr() bool      { return false }
func (op *kernelOp) CallsExtern() bool     { return false }
func (op *kernelOp) OverwritesInput() int  { return -1 }
func (op *kernelOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%s#%d", op.k.name(), op.serial) }
func (op *kernelOp) Hashcode() uint32      { return hashOf(op) }
func (op *kernelOp) String() string        { return op.k.name() }
func (op *kernelOp) DiffWRT(n int) []bool  { return op.k.differentiable() }

func (op *kernelOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	diff := op.k.differentiable()
	out := make(G.Nodes, len(inputs))
	args := append(append(G.Nodes{}, inputs...), output, grad)
	for i := range inputs {
		if !diff[i] {
			continue
		}
		g := &kernelGradOp{fwd: op, wrt: i, serial: opSerial.Add(1)}
		n, err := G.ApplyOp(g, args...)
		if err != nil {
			return nil, fmt.Errorf("%s: gradient wrt input %d: %w", op.k.name(), i, err)
		}
		out[i] = n
	}
	return out, nil
}

// kernelGradOp computes a kernel's gradient with respect to one input from
// (inputs..., output, dLoss/dOutput).
type kernelGradOp struct {
	fwd    *kernelOp
	wrt    int
	serial int64
	last   *tensor.Dense // the previous run's gradient, reused
	// Per-example gradients (persample.go): tap sees the inputs, output and
	// output gradient after backward; skip leaves the batch gradient, which
	// DP-SGD does not use, at zero instead of computing it.
	tap  func(in []*tensor.Dense, out, gOut *tensor.Dense) error
	skip bool
}

func (op *kernelGradOp) Arity() int { return len(op.fwd.inDims) + 2 }

func (op *kernelGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	ts := make(hm.Types, 0, len(op.fwd.inDims)+3)
	for _, d := range op.fwd.inDims {
		ts = append(ts, tensorType(d, a))
	}
	ts = append(ts, tensorType(op.fwd.outDims, a), tensorType(op.fwd.outDims, a))
	ts = append(ts, tensorType(op.fwd.inDims[op.wrt], a))
	return hm.NewFnType(ts...)
}

func (op *kernelGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[op.wrt].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("%s gradient: input %d has no shape", op.fwd.k.name(), op.wrt)
	}
	return s.Clone(), nil
}

func (op *kernelGradOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *kernelGradOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	ts, err := denses(op.fwd.k, in)
	if err != nil {
		return nil, err
	}
	n := len(op.fwd.inDims)
	x := ts[op.wrt]
	if prealloc == nil && op.last != nil {
		prealloc = op.last
	}
	grad := reuse(prealloc, x.Dtype(), x.Shape())
	fresh := grad != op.last
	op.last = grad
	if !op.skip {
		if !writesAll(op.fwd.k, op.wrt) {
			zero(grad)
		}
		if err := op.fwd.k.backward(ts[:n], ts[n], ts[n+1], op.wrt, grad); err != nil {
			return nil, fmt.Errorf("%s gradient: %w", op.fwd.k.name(), err)
		}
	} else if fresh {
		zero(grad)
	}
	if op.tap != nil {
		if err := op.tap(ts[:n], ts[n], ts[n+1]); err != nil {
			return nil, fmt.Errorf("%s per-example gradient: %w", op.fwd.k.name(), err)
		}
	}
	return grad, nil
}

func (op *kernelGradOp) ReturnsPtr() bool     { return false }
func (op *kernelGradOp) CallsExtern() bool    { return false }
func (op *kernelGradOp) OverwritesInput() int { return -1 }
func (op *kernelGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "d%s/d%d#%d", op.fwd.k.name(), op.wrt, op.serial)
}
func (op *kernelGradOp) Hashcode() uint32 { return hashOf(op) }
func (op *kernelGradOp) String() string   { return fmt.Sprintf("∂%s/∂in%d", op.fwd.k.name(), op.wrt) }

type hashWriter interface{ WriteHash(hash.Hash) }

func hashOf(op hashWriter) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

// denses converts Gorgonia values to dense tensors; Gorgonia hands scalars
// over as *F32/*F64.
func denses(k kernel, in []G.Value) ([]*tensor.Dense, error) {
	ts := make([]*tensor.Dense, len(in))
	for i, v := range in {
		switch v := v.(type) {
		case *tensor.Dense:
			ts[i] = v
		case *G.F32:
			ts[i] = tensor.New(tensor.FromScalar(float32(*v)))
		case *G.F64:
			ts[i] = tensor.New(tensor.FromScalar(float64(*v)))
		default:
			return nil, fmt.Errorf("%s: input %d is a %T, expected a dense tensor", k.name(), i, v)
		}
	}
	return ts, nil
}

// reuse returns prealloc when it is a dense tensor of the wanted type and
// shape, and a new tensor otherwise.
func reuse(prealloc G.Value, dt tensor.Dtype, s tensor.Shape) *tensor.Dense {
	if d, ok := prealloc.(*tensor.Dense); ok && d.Dtype() == dt && d.Shape().Eq(s) && !d.IsView() {
		return d
	}
	if len(s) == 0 {
		return tensor.New(tensor.Of(dt), tensor.WithShape())
	}
	return tensor.New(tensor.Of(dt), tensor.WithShape(s...))
}

func zero(t *tensor.Dense) {
	switch d := t.Data().(type) {
	case []float32:
		clear(d)
	case []float64:
		clear(d)
	case float32, float64:
		t.Zero()
	}
}
