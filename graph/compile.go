package graph

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Outputs is what a model's build function returns.
type Outputs struct {
	Inputs []*G.Node // bound to a batch's input tensors, in the dataset's order
	Target *G.Node   // bound to the batch's targets
	Output *G.Node   // logits or predictions; first dimension is the batch
	Loss   *G.Node   // scalar: the mean loss over the batch
}

// BuildFunc adds a model's graph for a batch of n examples.
type BuildFunc func(b *Builder, n int) (Outputs, error)

// Machine is a graph compiled into a Gorgonia tape machine for one batch
// size and mode. A training machine also computes the gradient of the loss
// with respect to every trainable parameter.
type Machine struct {
	Mode   Mode
	N      int
	vm     G.VM
	out    Outputs
	params []*Param   // trainable parameters, aligned with grads
	grads  []*G.Node  // dLoss/dParam nodes (training machines only)
	extra  []Feedback // written back after each run (running statistics)
}

// Feedback lets an op hand back state after a run, such as a batch
// normalization's new running statistics.
type Feedback interface{ Apply() error }

// Run binds a batch and executes the machine. inputs must match the model's
// input nodes in order and shape.
func (m *Machine) Run(inputs []*tensor.Dense, target *tensor.Dense) error {
	if len(inputs) != len(m.out.Inputs) {
		return fmt.Errorf("machine takes %d inputs, got %d", len(m.out.Inputs), len(inputs))
	}
	for i, n := range m.out.Inputs {
		if !inputs[i].Shape().Eq(n.Shape()) {
			return fmt.Errorf("input %q has shape %v, the machine was built for %v", n.Name(), inputs[i].Shape(), n.Shape())
		}
		if err := G.Let(n, inputs[i]); err != nil {
			return fmt.Errorf("binding input %q: %w", n.Name(), err)
		}
	}
	if err := G.Let(m.out.Target, target); err != nil {
		return fmt.Errorf("binding targets: %w", err)
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

// Loss is the last run's mean loss.
func (m *Machine) Loss() float64 { return scalarOf(m.out.Loss.Value()) }

// Output is the last run's output tensor (logits or predictions). It is
// overwritten by the next run.
func (m *Machine) Output() *tensor.Dense { return m.out.Output.Value().(*tensor.Dense) }

// Gradients returns, after a training run, each trainable parameter with
// its gradient, in state_dict order.
// The gradient tensors belong to the machine and must not be written to:
// an embedding table's gradient is cleared only in the rows the previous
// run wrote (see sparsegrad.go).
func (m *Machine) Gradients() []Gradient {
	gs := make([]Gradient, len(m.params))
	for i, p := range m.params {
		gs[i] = Gradient{Param: p, Grad: m.grads[i].Value().(*tensor.Dense)}
	}
	return gs
}

// Gradient pairs a parameter with dLoss/dParam.
type Gradient struct {
	Param *Param
	Grad  *tensor.Dense
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
	params   *Params
	noise    *Noise
	machines map[programKey]*Machine
}

type programKey struct {
	n    int
	mode Mode
}

// NewProgram returns a program over build whose parameters live in params.
func NewProgram(build BuildFunc, params *Params, noise *Noise) *Program {
	if noise == nil {
		noise = &Noise{}
	}
	return &Program{build: build, params: params, noise: noise, machines: map[programKey]*Machine{}}
}

// Params is the program's parameter store.
func (p *Program) Params() *Params { return p.params }

// Noise is the randomness source of the training machines.
func (p *Program) Noise() *Noise { return p.noise }

// Materialize creates and initializes every parameter, by building the
// inference graph for one example, so that weights can be loaded before any
// batch is run.
func (p *Program) Materialize() error {
	_, err := p.Machine(1, Eval)
	return err
}

// Machine returns the compiled machine for a batch of n in mode, compiling
// it on first use.
func (p *Program) Machine(n int, mode Mode) (*Machine, error) {
	key := programKey{n, mode}
	if m, ok := p.machines[key]; ok {
		return m, nil
	}
	m, err := Compile(p.build, p.params, p.noise, n, mode)
	if err != nil {
		return nil, err
	}
	p.machines[key] = m
	return m, nil
}

// Compile builds the graph for a batch of n examples and compiles it. In
// Train mode the gradient nodes of every trainable parameter are added.
func Compile(build BuildFunc, params *Params, noise *Noise, n int, mode Mode) (*Machine, error) {
	b := NewBuilder(params, mode, noise)
	out, err := build(b, n)
	if err != nil {
		return nil, err
	}
	if out.Loss == nil || out.Output == nil || out.Target == nil {
		return nil, fmt.Errorf("graph: the model's outputs lack a loss, output or target node")
	}
	m := &Machine{Mode: mode, N: n, out: out, extra: b.feedback}
	if mode == Train {
		var wrt G.Nodes
		for _, p := range params.Trainable() {
			if node := b.ParamNode(p.Name); node != nil {
				m.params = append(m.params, p)
				wrt = append(wrt, node)
			}
		}
		if m.grads, err = G.Grad(out.Loss, wrt...); err != nil {
			return nil, fmt.Errorf("graph: differentiating the loss: %w", err)
		}
		for _, g := range m.grads {
			sparseGradient(g)
		}
	}
	m.vm = G.NewTapeMachine(b.G)
	return m, nil
}
