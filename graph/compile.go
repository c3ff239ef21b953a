package graph

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Outputs is what a model's forward pass returns: no targets and no loss,
// which belong to training (see LossFunc).
type Outputs struct {
	Inputs []*G.Node // bound to a batch's input tensors, in the dataset's order
	Output *G.Node   // logits or predictions; first dimension is the batch
	// Aux holds intermediate nodes a loss may read (matrix factorization's
	// penalty reads the batch's factor rows); nil for most models.
	Aux map[string]*G.Node
}

// Objective is what training adds to a forward pass.
type Objective struct {
	Target *G.Node // bound to the batch's targets
	Loss   *G.Node // scalar: the mean loss over the batch
}

// BuildFunc adds a model's forward pass for a batch of n examples.
type BuildFunc func(b *Builder, n int) (Outputs, error)

// LossFunc adds the training objective over a forward pass's outputs: the
// target input and the scalar mean loss. It is called for the Train and
// Eval graphs, never for Infer.
type LossFunc func(b *Builder, out Outputs) (Objective, error)

// Machine is a graph compiled into a Gorgonia tape machine for one batch
// size and mode. A training machine also computes the gradient of the loss
// with respect to every trainable parameter.
type Machine struct {
	Mode   Mode
	N      int
	vm     G.VM           // nil when plan runs the graph
	plan   *plan          // Infer machines whose nodes a plan covers (plan.go)
	inputs []tensor.Shape // the input nodes' shapes (Node.Shape copies them)
	g      *G.ExprGraph   // for FLOPs
	out    Outputs
	obj    Objective  // nil nodes in Infer machines
	params []*Param   // trainable parameters, aligned with grads
	grads  []*G.Node  // dLoss/dParam nodes (training machines only)
	extra  []Feedback // written back after each run (running statistics)
}

// Feedback lets an op hand back state after a run, such as a batch
// normalization's new running statistics.
type Feedback interface{ Apply() error }

// Run binds a batch and executes the machine. inputs must match the model's
// input nodes in order and shape; target is ignored (and may be nil) for an
// Infer machine, which has none.
func (m *Machine) Run(inputs []*tensor.Dense, target *tensor.Dense) error {
	if len(inputs) != len(m.out.Inputs) {
		return fmt.Errorf("machine takes %d inputs, got %d", len(m.out.Inputs), len(inputs))
	}
	for i, n := range m.out.Inputs {
		switch in := inputs[i]; {
		case in == nil:
			return fmt.Errorf("input %q is missing", n.Name())
		case !in.Shape().Eq(m.inputs[i]):
			return fmt.Errorf("input %q has shape %v, the machine was built for %v", n.Name(), in.Shape(), m.inputs[i])
		case in.Dtype() != n.Dtype() || in.IsView():
			// The kernels read a dense tensor's values as the graph's type.
			return fmt.Errorf("input %q is a %v tensor (view: %t), the machine takes a dense %v one", n.Name(), in.Dtype(), in.IsView(), n.Dtype())
		}
	}
	if m.plan != nil {
		return m.plan.run(inputs)
	}
	for i, n := range m.out.Inputs {
		if err := G.Let(n, inputs[i]); err != nil {
			return fmt.Errorf("binding input %q: %w", n.Name(), err)
		}
	}
	if m.obj.Target != nil {
		if target == nil {
			return fmt.Errorf("the %s machine needs targets", m.Mode)
		}
		if err := G.Let(m.obj.Target, target); err != nil {
			return fmt.Errorf("binding targets: %w", err)
		}
	}
	defer m.vm.Reset()
	if err := m.vm.RunAll(); err != nil {
		return err
	}
	for _, f := range m.extra {
		if err := f.Apply(); err != nil {
			return err
		}
	}
	return nil
}

// Loss is the last run's mean loss; NaN for an Infer machine, which has none.
func (m *Machine) Loss() float64 {
	if m.obj.Loss == nil {
		return math.NaN()
	}
	return scalarOf(m.obj.Loss.Value())
}

// InputShapes returns the shape of each input the machine binds, batch
// dimension first.
func (m *Machine) InputShapes() [][]int {
	out := make([][]int, len(m.out.Inputs))
	for i, n := range m.out.Inputs {
		out[i] = []int(n.Shape().Clone())
	}
	return out
}

// Output is the last run's output tensor (logits or predictions). It is
// overwritten by the next run.
func (m *Machine) Output() *tensor.Dense {
	if m.plan != nil {
		return m.plan.output
	}
	return m.out.Output.Value().(*tensor.Dense)
}

// Planned reports whether the machine runs a static plan (an Infer
// machine whose every node a plan covers, plan.go) rather than
// Gorgonia's tape.
func (m *Machine) Planned() bool { return m.plan != nil }

// Gradients returns, after a training run, each trainable parameter with
// its gradient, in state_dict order.
// The gradient tensors belong to the machine and must not be written to:
// an embedding table's gradient is cleared only in the rows the previous
// run wrote (see sparsegrad.go).
func (m *Machine) Gradients() []Gradient {
	gs := make([]Gradient, len(m.params))
	for i, p := range m.params {
		grad := m.grads[i].Value().(*tensor.Dense)
		gs[i] = Gradient{Param: p, Grad: grad, Rows: sparseRows(m.grads[i], grad)}
	}
	return gs
}

// Gradient pairs a parameter with dLoss/dParam.
type Gradient struct {
	Param *Param
	Grad  *tensor.Dense
	// Rows, when not nil, lists the only rows (along the first axis) where
	// Grad may be nonzero: an embedding table's, the rows of the batch's
	// ids. They belong to the machine, like Grad.
	Rows []int32
}

func scalarOf(v G.Value) float64 {
	switch v := v.(type) {
	case *G.F32:
		return float64(*v)
	case *G.F64:
		return float64(*v)
	case *tensor.Dense:
		switch d := v.Data().(type) {
		case float32:
			return float64(d)
		case float64:
			return d
		case []float32:
			return float64(d[0])
		case []float64:
			return d[0]
		}
	}
	panic(fmt.Sprintf("graph: %T is not a scalar", v))
}

// Program compiles a model on demand: one machine per (batch size, mode),
// all sharing the same parameter values. Graph shapes are static in
// Gorgonia, so a final partial batch gets a machine of its own.
type Program struct {
	build    BuildFunc
	loss     LossFunc
	params   *Params
	noise    *Noise
	machines map[programKey]*Machine
}

type programKey struct {
	n    int
	mode Mode
}

// NewProgram returns a program over build whose parameters live in params.
// loss may be nil for a program that only compiles Infer machines.
func NewProgram(build BuildFunc, loss LossFunc, params *Params, noise *Noise) *Program {
	if noise == nil {
		noise = &Noise{}
	}
	return &Program{build: build, loss: loss, params: params, noise: noise, machines: map[programKey]*Machine{}}
}

// Params is the program's parameter store.
func (p *Program) Params() *Params { return p.params }

// Noise is the randomness source of the training machines.
func (p *Program) Noise() *Noise { return p.noise }

// Materialize creates and initializes every parameter, by building the
// forward pass for one example (not compiled), so that weights can be
// loaded before any batch is run.
func (p *Program) Materialize() error {
	return Materialize(p.build, p.params)
}

// ParamShapes lists the parameters build creates, with their shapes and in
// state_dict order, without allocating them: a loader compares them with a
// weight file's before a hostile configuration can ask for gigabytes.
func ParamShapes(build BuildFunc) ([]ParamSpec, error) {
	ps := &Params{dtype: tensor.Float32, shapeOnly: true, index: map[string]*Param{}}
	if _, err := build(NewBuilder(ps, Eval, nil), 1); err != nil {
		return nil, err
	}
	return ps.Specs(), nil
}

// Materialize creates and initializes every parameter build uses in params.
func Materialize(build BuildFunc, params *Params) error {
	_, err := build(NewBuilder(params, Eval, nil), 1)
	return err
}

// Machine returns the compiled machine for a batch of n in mode, compiling
// it on first use.
func (p *Program) Machine(n int, mode Mode) (*Machine, error) {
	key := programKey{n, mode}
	if m, ok := p.machines[key]; ok {
		return m, nil
	}
	m, err := Compile(p.build, p.loss, p.params, p.noise, n, mode)
	if err != nil {
		return nil, err
	}
	p.machines[key] = m
	return m, nil
}

// Compile builds the graph for a batch of n examples and compiles it. The
// Train and Eval graphs add loss's objective; in Train mode the gradient
// nodes of every trainable parameter are added too. An Infer graph is the
// forward pass alone, and loss may be nil.
//
// An Infer machine runs a static plan of kernel calls (plan.go) when its
// graph's every node has one, and Gorgonia's tape otherwise.
func Compile(build BuildFunc, loss LossFunc, params *Params, noise *Noise, n int, mode Mode) (*Machine, error) {
	return compile(build, loss, params, noise, n, mode, false)
}

// compile is Compile; tape keeps an Infer machine on the tape.
func compile(build BuildFunc, loss LossFunc, params *Params, noise *Noise, n int, mode Mode, tape bool) (*Machine, error) {
	b := NewBuilder(params, mode, noise)
	out, err := build(b, n)
	if err != nil {
		return nil, err
	}
	if out.Output == nil || len(out.Inputs) == 0 {
		return nil, fmt.Errorf("graph: the model's outputs lack an output or input node")
	}
	m := &Machine{Mode: mode, N: n, g: b.G, out: out, extra: b.feedback}
	for _, in := range out.Inputs {
		m.inputs = append(m.inputs, in.Shape())
	}
	if mode != Infer {
		if loss == nil {
			return nil, fmt.Errorf("graph: a %s machine needs a loss", mode)
		}
		if m.obj, err = loss(b, out); err != nil {
			return nil, err
		}
		if m.obj.Loss == nil || m.obj.Target == nil {
			return nil, fmt.Errorf("graph: the model's objective lacks a loss or target node")
		}
	}
	if mode == Train {
		var wrt G.Nodes
		for _, p := range params.Trainable() {
			if node := b.ParamNode(p.Name); node != nil {
				m.params = append(m.params, p)
				wrt = append(wrt, node)
			}
		}
		if m.grads, err = G.Grad(m.obj.Loss, wrt...); err != nil {
			return nil, fmt.Errorf("graph: differentiating the loss: %w", err)
		}
		for _, g := range m.grads {
			sparseGradient(g)
		}
	}
	if mode == Infer && !tape {
		if m.plan, err = newPlan(b.G, out); err != nil {
			return nil, fmt.Errorf("graph: planning the serving graph: %w", err)
		}
		if m.plan != nil {
			return m, nil
		}
	}
	m.vm = G.NewTapeMachine(b.G)
	return m, nil
}
