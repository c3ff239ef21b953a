package graph

import (
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// ReLU is max(x, 0), element-wise.
func ReLU(x *G.Node) *G.Node { return elementwise(x, relu) }

// Sigmoid is 1/(1+e^−x), element-wise.
func Sigmoid(x *G.Node) *G.Node { return elementwise(x, sigmoid) }

// Tanh is tanh(x), element-wise.
func Tanh(x *G.Node) *G.Node { return elementwise(x, tanh) }

// GELU is the exact Gaussian error linear unit x·Φ(x) = ½·x·(1 + erf(x/√2)),
// element-wise: PyTorch's F.gelu (approximate='none') and BERT's "gelu",
// not the tanh approximation. float64 graphs use math.Erf; float32 graphs
// use the vector kernels kern.GELU and kern.GELUGrad (Φ within 1.3e-7).
func GELU(x *G.Node) *G.Node { return elementwise(x, gelu) }

type activation int

const (
	relu activation = iota
	sigmoid
	tanh
	gelu
)

func (a activation) String() string { return [...]string{"ReLU", "Sigmoid", "Tanh", "GELU"}[a] }

func elementwise(x *G.Node, a activation) *G.Node {
	return mustApply(typed(x.Dtype(), &activationKernel[float32]{fn: a}, &activationKernel[float64]{fn: a}), x)
}

type activationKernel[T float] struct {
	fn    activation
	elems geluSite                            // forward, GELU in float32
	relus forkSite[reluCall[T], *reluCall[T]] // forward, ReLU
}

// reluCall is ReLU's forward arguments: part i computes [from, to).
type reluCall[T float] struct{ x, y []T }

func (c *reluCall[T]) part(_, from, to int) {
	if x32, ok := any(c.x).([]float32); ok { // vector loops, Go's max bit for bit
		kern.ReLU(any(c.y).([]float32)[from:to], x32[from:to])
		return
	}
	for i, v := range c.x[from:to] {
		c.y[from+i] = max(v, 0)
	}
}

func (k *activationKernel[T]) name() string { return k.fn.String() }

func (*activationKernel[T]) differentiable() []bool { return []bool{true} }

func (*activationKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) {
	return in[0].Clone(), nil
}

func (k *activationKernel[T]) forward(in []*tensor.Dense, out *tensor.Dense) error {
	x, y := values[T](in[0]), values[T](out)
	switch k.fn {
	case relu: // split among the threads: the ConvNet's blocks rectify 786K values a step
		k.relus.elements(len(x), reluCall[T]{x: x, y: y[:len(x)]})
	case sigmoid:
		for i, v := range x {
			y[i] = T(sigmoidOf(float64(v)))
		}
	case tanh:
		for i, v := range x {
			y[i] = T(math.Tanh(float64(v)))
		}
	case gelu:
		if x32, ok := any(x).([]float32); ok {
			gelu32(&k.elems, d32(y), x32)
			return nil
		}
		for i, v := range x {
			y[i] = v * T(normalCDF(float64(v)))
		}
	}
	return nil
}

// gelu32 and geluBackward32 are the float32 GELU: the vector kernels, on
// large tensors split among the threads (GELU was 46% of a transformer's
// inference profile on one thread, with a scalar erf).
func gelu32(site *geluSite, y, x []float32) {
	site.elements(len(x), geluCall{x: x, y: y[:len(x)]})
}

// geluCall is gelu32's arguments: part i computes [from, to).
type geluCall struct{ x, y []float32 }

type geluSite = forkSite[geluCall, *geluCall]

func (c *geluCall) part(_, from, to int) { kern.GELU(c.y[from:to], c.x[from:to]) }

func geluBackward32(d, x, g []float32) {
	d, g = d[:len(x)], g[:len(x)]
	splitElements(len(x), func(from, to int) { kern.GELUGrad(d[from:to], x[from:to], g[from:to]) })
}

// normalCDF is Φ(x) = ½·(1 + erf(x/√2)).
func normalCDF(x float64) float64 { return 0.5 + 0.5*math.Erf(x/math.Sqrt2) }

// normalPDF is φ(x) = e^(−x²/2)/√(2π).
func normalPDF(x float64) float64 { return math.Exp(-0.5*x*x) * 0.3989422804014327 }

func (k *activationKernel[T]) backward(in []*tensor.Dense, out, gOut *tensor.Dense, _ int, grad *tensor.Dense) error {
	x, y, g, d := values[T](in[0]), values[T](out), values[T](gOut), values[T](grad)
	switch k.fn {
	case relu:
		if x32, ok := any(x).([]float32); ok {
			d, g := d32(d), any(g).([]float32)
			splitElements(len(x), func(from, to int) { kern.ReLUGrad(d[from:to], x32[from:to], g[from:to]) })
			return nil
		}
		for i, v := range x {
			if v > 0 {
				d[i] = g[i]
			} else {
				d[i] = 0
			}
		}
	case sigmoid:
		for i, v := range y {
			d[i] = g[i] * v * (1 - v)
		}
	case tanh:
		for i, v := range y {
			d[i] = g[i] * (1 - v*v)
		}
	case gelu: // d/dx x·Φ(x) = Φ(x) + x·φ(x)
		if x32, ok := any(x).([]float32); ok {
			geluBackward32(d32(d), x32, any(g).([]float32))
			return nil
		}
		for i, v := range x {
			d[i] = g[i] * T(normalCDF(float64(v))+float64(v)*normalPDF(float64(v)))
		}
	}
	return nil
}

// sigmoidOf is the logistic function, without overflow for large |x|.
func sigmoidOf(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

func d32[T float](d []T) []float32 { return any(d).([]float32) }
