package graph

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Mode says which graph a model is building.
type Mode int

const (
	// Train builds the training graph: dropout is active and batch
	// normalization uses batch statistics.
	Train Mode = iota
	// Eval builds the evaluation graph: the forward pass with dropout as
	// the identity and running statistics, plus the loss, op for op as in
	// training (the parity tests check it against PyTorch's eval mode).
	Eval
	// Infer builds the serving graph: the forward pass alone, no targets
	// and no loss, with inference-only rewrites (batch normalization folded
	// into the preceding convolution, fused kernels). Its parameters must
	// not change while a machine runs.
	Infer
)

func (m Mode) String() string {
	return [...]string{"train", "eval", "infer"}[m]
}

// Noise is the source of training-time randomness (dropout masks). Masks are
// a pure function of (Seed, Step, layer), so training is reproducible and a
// resumed run draws the same masks as an uninterrupted one. The trainer sets
// Step before each training step.
type Noise struct {
	Seed uint64
	Step uint64
}

// Builder is handed to a model's build function: it adds nodes to one graph,
// taking parameter values from a shared store.
type Builder struct {
	G      *G.ExprGraph
	Params *Params
	Mode   Mode
	Noise  *Noise

	nodes    map[string]*G.Node // parameter nodes in this graph
	layers   int                // counts randomness-using layers, to give each its own stream
	feedback []Feedback         // state written back after each run

	// attribution marks a graph compiled for gradients with respect to its
	// inputs or embedding outputs (see CompileAttribution); embedded holds
	// the inputs that stand in for embedding outputs there.
	attribution bool
	embedded    []*G.Node
	lookups     []embedLookup // per embedded: how to compute it from ids
}

// AddFeedback registers state an op writes back after each run of the
// machine (BatchNorm's running statistics).
func (b *Builder) AddFeedback(f Feedback) { b.feedback = append(b.feedback, f) }

// NewBuilder starts a new graph over params.
func NewBuilder(params *Params, mode Mode, noise *Noise) *Builder {
	if noise == nil {
		noise = &Noise{}
	}
	return &Builder{G: G.NewGraph(), Params: params, Mode: mode, Noise: noise, nodes: map[string]*G.Node{}}
}

// Training reports whether this is the training graph.
func (b *Builder) Training() bool { return b.Mode == Train }

// Dtype is the element type of the graph.
func (b *Builder) Dtype() tensor.Dtype { return b.Params.dtype }

// Input adds an input node that each batch is bound to.
func (b *Builder) Input(name string, shape ...int) *G.Node {
	return G.NewTensor(b.G, b.Params.dtype, len(shape), G.WithShape(shape...), G.WithName(name))
}

// Param returns the node of a trainable parameter, creating the parameter
// with init on first use.
func (b *Builder) Param(name string, shape []int, init Init) *G.Node {
	return b.node(b.Params.obtain(name, shape, init, true))
}

// Buffer returns the node of a non-trainable parameter (a running
// statistic), creating it with init on first use.
func (b *Builder) Buffer(name string, shape []int, init Init) *G.Node {
	return b.node(b.Params.obtain(name, shape, init, false))
}

// Counter returns the node of an integral, non-trainable buffer (a step
// counter such as num_batches_tracked), stored as int64 in checkpoints.
func (b *Builder) Counter(name string, shape []int) *G.Node {
	p := b.Params.obtain(name, shape, Constant(0), false)
	p.Counter = true
	return b.node(p)
}

func (b *Builder) node(p *Param) *G.Node {
	if n, ok := b.nodes[p.Name]; ok {
		return n
	}
	var n *G.Node
	if p.Value == nil { // ParamShapes: shapes only
		n = G.NewTensor(b.G, b.Params.dtype, len(p.shape), G.WithShape(p.shape...), G.WithName(p.Name))
	} else {
		n = G.NewTensor(b.G, b.Params.dtype, p.Value.Dims(), G.WithShape(p.Value.Shape()...), G.WithName(p.Name), G.WithValue(p.Value))
	}
	b.nodes[p.Name] = n
	return n
}

// nextStream gives each randomness-using layer its own random stream.
func (b *Builder) nextStream() uint64 {
	b.layers++
	return uint64(b.layers)
}

// ParamNode returns this graph's node for a parameter, or nil if the graph
// does not use it.
func (b *Builder) ParamNode(name string) *G.Node { return b.nodes[name] }

func shapeErr(layer string, got tensor.Shape, want string) error {
	return fmt.Errorf("%s: input shape %v, expected %s", layer, got, want)
}
