package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"gorgonia.org/tensor"
)

// Param is one named tensor of a model's state: a trainable weight, or a
// buffer such as a running mean that the optimizer must not touch.
type Param struct {
	Name      string
	Value     *tensor.Dense
	Trainable bool
	// Counter marks an integral buffer (BatchNorm's num_batches_tracked)
	// that checkpoints store as int64, as PyTorch does.
	Counter bool
	// Role is the kind of layer that reads the parameter as its weight
	// (RoleNone for biases and buffers): what int8 quantization may do.
	Role Role
	// Unit names the weights that a serving kernel runs in int8 only
	// together (an LSTM direction's weight_ih and weight_hh; an
	// attention's query, key and value): "" when the weight is a unit of
	// its own. Int8 quantization keeps or drops such weights as one layer.
	Unit string

	shape []int // the shape of a parameter without a value (ParamShapes)
}

// Shape returns the parameter's shape as a plain slice.
func (p *Param) Shape() []int {
	if p.Value == nil {
		return append([]int{}, p.shape...) // as a value's shape: empty, not nil, for a scalar
	}
	return []int(p.Value.Shape().Clone())
}

// Params is an ordered store of named parameters, shared by every graph
// built from it. The order is the order of first creation, which is the
// order of the equivalent PyTorch module's state_dict.
type Params struct {
	packedMu sync.Mutex
	packed   map[string]*packedWeights     // serving graphs' packed weights, shared by their machines
	tables   map[string]*tokenTable        // serving graphs' per-token tables, likewise
	convs    map[string]*foldedConvWeights // serving graphs' folded convolutions, likewise (conv_serve.go)
	quant    map[string]*QuantWeight       // int8 forms of weights (quant.go), used by serving graphs
	calib    map[string]*calibStat         // activation ranges recorded while calibrating (quant.go)

	dtype     tensor.Dtype
	shapeOnly bool // records names and shapes without allocating values (ParamShapes)
	rng       *rand.Rand
	list      []*Param
	index     map[string]*Param
}

// NewParams returns an empty store whose initializers draw from a generator
// seeded with seed; dtype is Float32 for training or Float64 for gradient
// checks.
func NewParams(dtype tensor.Dtype, seed uint64) *Params {
	return &Params{
		dtype: dtype,
		rng:   rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)),
		index: map[string]*Param{},
	}
}

// Dtype is the element type of every parameter.
func (ps *Params) Dtype() tensor.Dtype { return ps.dtype }

// List returns the parameters in state_dict order.
func (ps *Params) List() []*Param { return ps.list }

// Trainable returns the parameters the optimizer updates, in order.
func (ps *Params) Trainable() []*Param {
	var out []*Param
	for _, p := range ps.list {
		if p.Trainable {
			out = append(out, p)
		}
	}
	return out
}

// Get returns the parameter called name, or nil.
func (ps *Params) Get(name string) *Param { return ps.index[name] }

// Count is the number of scalar values in trainable parameters.
func (ps *Params) Count() int {
	n := 0
	for _, p := range ps.Trainable() {
		n += p.Value.Shape().TotalSize()
	}
	return n
}

// obtain returns the parameter called name, creating and initializing it on
// first use. A second use with another shape is a programmer error.
func (ps *Params) obtain(name string, shape []int, init Init, trainable bool) *Param {
	if p, ok := ps.index[name]; ok {
		if !tensor.Shape(p.Shape()).Eq(tensor.Shape(shape)) {
			panic(fmt.Sprintf("graph: parameter %q used with shape %v, created with %v", name, shape, p.Shape()))
		}
		return p
	}
	if ps.shapeOnly {
		p := &Param{Name: name, Trainable: trainable, shape: append([]int(nil), shape...)}
		ps.list = append(ps.list, p)
		ps.index[name] = p
		return p
	}
	v := tensor.New(tensor.Of(ps.dtype), tensor.WithShape(shape...))
	vals := make([]float64, v.Shape().TotalSize())
	init(ps.rng, shape, vals)
	switch d := v.Data().(type) {
	case []float32:
		for i, x := range vals {
			d[i] = float32(x)
		}
	case []float64:
		copy(d, vals)
	}
	p := &Param{Name: name, Value: v, Trainable: trainable}
	ps.list = append(ps.list, p)
	ps.index[name] = p
	return p
}

// packedFor returns the packed form of a weight (key names it and its
// layout), shared by every serving machine built from ps; it is filled on
// first use.
func (ps *Params) packedFor(key string) *packedWeights {
	ps.packedMu.Lock()
	defer ps.packedMu.Unlock()
	if ps.packed == nil {
		ps.packed = map[string]*packedWeights{}
	}
	pw, ok := ps.packed[key]
	if !ok {
		pw = &packedWeights{}
		ps.packed[key] = pw
	}
	return pw
}

// tableFor returns the per-token table a serving kernel derives from the
// weights (key names it), shared like packedFor's; filled on first use.
func (ps *Params) tableFor(key string) *tokenTable {
	ps.packedMu.Lock()
	defer ps.packedMu.Unlock()
	if ps.tables == nil {
		ps.tables = map[string]*tokenTable{}
	}
	t, ok := ps.tables[key]
	if !ok {
		t = &tokenTable{}
		ps.tables[key] = t
	}
	return t
}

// Init fills vals (laid out row-major in shape) with initial values.
type Init func(rng *rand.Rand, shape []int, vals []float64)

// fanIn is PyTorch's fan-in: the size of every dimension but the first.
func fanIn(shape []int) int {
	n := 1
	for _, d := range shape[1:] {
		n *= d
	}
	return n
}

// Uniform draws from U(−bound, bound).
func Uniform(bound float64) Init {
	return func(rng *rand.Rand, _ []int, vals []float64) {
		for i := range vals {
			vals[i] = (rng.Float64()*2 - 1) * bound
		}
	}
}

// KaimingUniform is PyTorch's default for Linear and convolution weights:
// kaiming_uniform_(a=√5), which works out to U(−1/√fan_in, 1/√fan_in).
func KaimingUniform(rng *rand.Rand, shape []int, vals []float64) {
	a := math.Sqrt(5)
	gain := math.Sqrt(2 / (1 + a*a))
	bound := gain * math.Sqrt(3/float64(fanIn(shape)))
	Uniform(bound)(rng, shape, vals)
}

// XavierUniform is PyTorch's xavier_uniform_ (gain 1) for a weight
// [out, in]: U(−a, a) with a = √(6/(fan_in+fan_out)).
func XavierUniform(rng *rand.Rand, shape []int, vals []float64) {
	Uniform(math.Sqrt(6/float64(shape[0]+fanIn(shape))))(rng, shape, vals)
}

// BiasUniform is PyTorch's default bias initializer for a layer whose weight
// has fan-in fanIn: U(−1/√fan_in, 1/√fan_in).
func BiasUniform(fanIn int) Init { return Uniform(1 / math.Sqrt(float64(fanIn))) }

// Normal draws from N(0, std²); PyTorch's Embedding uses std 1.
func Normal(std float64) Init {
	return func(rng *rand.Rand, _ []int, vals []float64) {
		for i := range vals {
			vals[i] = rng.NormFloat64() * std
		}
	}
}

// Constant fills with c (BatchNorm's γ=1, β=0, running statistics).
func Constant(c float64) Init {
	return func(_ *rand.Rand, _ []int, vals []float64) {
		for i := range vals {
			vals[i] = c
		}
	}
}
