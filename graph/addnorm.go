package graph

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// AddLayerNorm is LayerNorm(b, name, Add(x, r), cfg), the end of a post-LN
// residual block (BERT's "LayerNorm(hidden + input)"), under LayerNorm's
// parameter names. The serving graph (float32 with the packed product)
// computes it in one kernel that forms each row's sum in place of the
// output row and normalizes it there, so the sum is never a tensor of its
// own and is read once less; other graphs build the two nodes.
func AddLayerNorm(b *Builder, name string, x, r *G.Node, cfg LayerNormConfig) *G.Node {
	if !inferFast(b) {
		return LayerNorm(b, name, Add(x, r), cfg)
	}
	if !x.Shape().Eq(r.Shape()) {
		panic(fmt.Sprintf("graph: %s: Add of shapes %v and %v", name, x.Shape(), r.Shape()))
	}
	gamma, beta, eps := layerNormParams(b, name, x, cfg)
	return mustApply(&addLayerNormKernel{ln: layerNormKernel[float32]{eps: eps}}, x, r, gamma, beta)
}

// addLayerNormKernel: inputs x, r [N, …, D], γ [D], β [D]; output
// LayerNorm(x + r) shaped as x. Serving graph only: no backward pass.
type addLayerNormKernel struct {
	ln   layerNormKernel[float32]
	rows forkSite[addNormCall, *addNormCall]
}

func (k *addLayerNormKernel) name() string { return fmt.Sprintf("AddLayerNorm(eps=%g)", k.ln.eps) }

func (*addLayerNormKernel) differentiable() []bool { return make([]bool, 4) }

func (k *addLayerNormKernel) outShape(in []tensor.Shape) (tensor.Shape, error) {
	if !in[0].Eq(in[1]) {
		return nil, fmt.Errorf("shapes %v and %v differ", in[0], in[1])
	}
	return k.ln.outShape([]tensor.Shape{in[0], in[2], in[3]})
}

func (*addLayerNormKernel) writesAll(int) bool { return true }

func (k *addLayerNormKernel) forward(in []*tensor.Dense, out *tensor.Dense) error {
	x, r := values[float32](in[0]), values[float32](in[1])
	gamma, beta, y := values[float32](in[2]), values[float32](in[3]), values[float32](out)
	d := len(gamma)
	k.rows.chunks(len(x)/d, addNormCall{k: k, x: x, r: r, gamma: gamma, beta: beta, y: y})
	return nil
}

// addNormCall is forward's arguments: part chunk computes the rows
// [from, to).
type addNormCall struct {
	k                    *addLayerNormKernel
	x, r, gamma, beta, y []float32
}

func (c *addNormCall) part(_, from, to int) {
	x, r, gamma, beta, y := c.x, c.r, c.gamma, c.beta, c.y
	d := len(gamma)
	for i := from; i < to; i++ {
		yr := y[i*d : (i+1)*d]
		copy(yr, x[i*d:(i+1)*d])
		kern.AddTo(yr, r[i*d:(i+1)*d]) // x + r, rounded as Add rounds it
		mean, inv := c.k.ln.stats(yr)
		kern.Normalize(yr, yr, gamma, beta, mean, inv)
	}
}

func (*addLayerNormKernel) backward([]*tensor.Dense, *tensor.Dense, *tensor.Dense, int, *tensor.Dense) error {
	return errInferOnly
}
