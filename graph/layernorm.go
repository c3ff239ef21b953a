package graph

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// LayerNormConfig holds a layer normalization's hyper-parameters.
type LayerNormConfig struct {
	// Eps is added to the variance before the square root; default 1e-12,
	// BERT's layer_norm_eps (PyTorch's nn.LayerNorm defaults to 1e-5: set
	// it for nn.TransformerEncoderLayer).
	Eps float64
}

// LayerNorm is PyTorch's nn.LayerNorm(D) with elementwise affine over the
// last axis of x [N, …, D]: every row of D values is normalized by its own
// mean and biased variance, then scaled by "<name>.weight" (γ, initially 1)
// and shifted by "<name>.bias" (β, initially 0), both [D]. Rows never mix,
// so an example's output depends on that example alone (per-example
// gradients slice it), and training and inference compute the same.
func LayerNorm(b *Builder, name string, x *G.Node, cfg LayerNormConfig) *G.Node {
	gamma, beta, eps := layerNormParams(b, name, x, cfg)
	return mustApply(typed(b.Dtype(),
		&layerNormKernel[float32]{eps: eps},
		&layerNormKernel[float64]{eps: eps}), x, gamma, beta)
}

// layerNormParams checks LayerNorm's input and configuration and returns
// its parameters γ and β and its eps (the default applied).
func layerNormParams(b *Builder, name string, x *G.Node, cfg LayerNormConfig) (gamma, beta *G.Node, eps float64) {
	if x.Dims() < 2 {
		panic(shapeErr(name, x.Shape(), "[N, …, D]"))
	}
	if cfg.Eps == 0 {
		cfg.Eps = 1e-12
	}
	if !(cfg.Eps > 0) || math.IsInf(cfg.Eps, 0) {
		panic(fmt.Sprintf("graph: %s: LayerNorm eps %v, expected a positive number", name, cfg.Eps))
	}
	d := x.Shape()[x.Dims()-1]
	gamma = b.Param(name+".weight", []int{d}, Constant(1))
	beta = b.Param(name+".bias", []int{d}, Constant(0))
	return gamma, beta, cfg.Eps
}

// layerNormKernel: inputs x [N, …, D], γ [D], β [D]; output shaped as x.
// Like groupNormKernel it keeps no state: backward recomputes each row's
// statistics (D values, one pass), so it also serves per-example gradients
// on one-example slices. Rows are split among the threads; the γ and β
// gradients add the threads' partial sums in thread order, and every sum
// runs in float64, so results do not depend on timing.
type layerNormKernel[T float] struct {
	eps  float64
	rows forkSite[layerNormCall[T], *layerNormCall[T]] // forward
}

func (k *layerNormKernel[T]) name() string { return fmt.Sprintf("LayerNorm(eps=%g)", k.eps) }

func (*layerNormKernel[T]) differentiable() []bool { return []bool{true, true, true} }

func (*layerNormKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) {
	x := in[0]
	if len(x) < 2 {
		return nil, fmt.Errorf("input %v, expected [N, …, D]", x)
	}
	d := x[len(x)-1]
	for i, p := range in[1:] {
		if len(p) != 1 || p[0] != d {
			return nil, fmt.Errorf("parameter %d has shape %v, expected [%d]", i+1, p, d)
		}
	}
	return x.Clone(), nil
}

func (*layerNormKernel[T]) writesAll(wrt int) bool { return wrt <= 0 }

// stats returns a row's mean and 1/√(var+eps), var the biased variance,
// in float64; a float32 row with the vector kernel (the Go loops were 12%
// of a transformer's inference profile once GELU was vectorized).
func (k *layerNormKernel[T]) stats(v []T) (mean, inv float64) {
	if v32, ok := any(v).([]float32); ok {
		mean, variance := kern.MeanVar(v32)
		return mean, 1 / math.Sqrt(variance+k.eps)
	}
	for _, x := range v {
		mean += float64(x)
	}
	mean /= float64(len(v))
	var ss float64
	for _, x := range v {
		d := float64(x) - mean
		ss += d * d
	}
	return mean, 1 / math.Sqrt(ss/float64(len(v))+k.eps)
}

func (k *layerNormKernel[T]) forward(in []*tensor.Dense, out *tensor.Dense) error {
	x, gamma, beta, y := values[T](in[0]), values[T](in[1]), values[T](in[2]), values[T](out)
	d := len(gamma)
	k.rows.chunks(len(x)/d, layerNormCall[T]{k: k, x: x, gamma: gamma, beta: beta, y: y})
	return nil
}

// layerNormCall is forward's arguments: part chunk normalizes the rows
// [from, to).
type layerNormCall[T float] struct {
	k                 *layerNormKernel[T]
	x, gamma, beta, y []T
}

func (c *layerNormCall[T]) part(_, from, to int) {
	k, x, gamma, beta, y := c.k, c.x, c.gamma, c.beta, c.y
	d := len(gamma)
	for r := from; r < to; r++ {
		row, yr := x[r*d:(r+1)*d], y[r*d:(r+1)*d]
		mean, inv := k.stats(row)
		if r32, ok := any(row).([]float32); ok {
			kern.Normalize(any(yr).([]float32), r32, any(gamma).([]float32), any(beta).([]float32), mean, inv)
			continue
		}
		for j, v := range row {
			yr[j] = T((float64(v)-mean)*inv*float64(gamma[j]) + float64(beta[j]))
		}
	}
}

func (k *layerNormKernel[T]) backward(in []*tensor.Dense, _, gOut *tensor.Dense, wrt int, grad *tensor.Dense) error {
	x, gamma, g, dst := values[T](in[0]), values[T](in[1]), values[T](gOut), values[T](grad)
	d := len(gamma)
	rows := len(x) / d
	if wrt == 0 {
		// dx = inv·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) per row, dx̂ = g·γ.
		inChunks(rows, func(_, from, to int) {
			for r := from; r < to; r++ {
				row, gr, dr := x[r*d:(r+1)*d], g[r*d:(r+1)*d], dst[r*d:(r+1)*d]
				mean, inv := k.stats(row)
				var sd, sdx float64
				for j, v := range row {
					dh := float64(gr[j]) * float64(gamma[j])
					sd += dh
					sdx += dh * (float64(v) - mean) * inv
				}
				sd /= float64(d)
				sdx /= float64(d)
				for j, v := range row {
					xh := (float64(v) - mean) * inv
					dr[j] = T(inv * (float64(gr[j])*float64(gamma[j]) - sd - xh*sdx))
				}
			}
		})
		return nil
	}
	// dγ = Σ g·x̂ and dβ = Σ g over the rows.
	parts := make([][]float64, workers(rows))
	inChunks(rows, func(c, from, to int) {
		acc := make([]float64, d)
		for r := from; r < to; r++ {
			row, gr := x[r*d:(r+1)*d], g[r*d:(r+1)*d]
			if wrt == 2 {
				for j, v := range gr {
					acc[j] += float64(v)
				}
				continue
			}
			mean, inv := k.stats(row)
			for j, v := range row {
				acc[j] += float64(gr[j]) * (float64(v) - mean) * inv
			}
		}
		parts[c] = acc
	})
	for j := range dst {
		var s float64
		for _, p := range parts {
			s += p[j]
		}
		dst[j] += T(s)
	}
	return nil
}

// LayerNorm's output for an example depends on that example alone, so its
// per-example parameter gradients are its backward on one-example slices.
func (k *layerNormKernel[T]) samples(in []*tensor.Dense, _, gOut *tensor.Dense, wrt int, st *opStore) (sampleGrads, error) {
	return newSliceSamples[T](k, func() kernel { return k }, in, gOut, wrt, st), nil
}

func (*layerNormKernel[T]) needsBackward() bool { return false }
