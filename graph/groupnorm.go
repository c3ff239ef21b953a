package graph

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// GroupNormConfig holds a group normalization's hyper-parameters.
type GroupNormConfig struct {
	// Groups splits the channels into groups normalized together; it must
	// divide the channel count. Default gcd(32, channels).
	Groups int
	// Eps is added to the variance before the square root; default 1e-5.
	Eps float64
}

// DefaultGroups is the default group count for c channels: 32, or the
// greatest common divisor of 32 and c when 32 does not divide c.
func DefaultGroups(c int) int {
	a, b := 32, c
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// GroupNorm is PyTorch's nn.GroupNorm over x [N, C, H, W] (or any
// [N, C, …]): each example's channels are split into Groups groups, each
// normalized by its own mean and biased variance, then scaled and shifted
// per channel by "<name>.weight" (γ, initially 1) and "<name>.bias" (β,
// initially 0), both [C]. Unlike BatchNorm it never mixes the examples of a
// batch, has no running statistics, and computes the same in training and
// inference — which is what differentially private training needs.
func GroupNorm(b *Builder, name string, x *G.Node, cfg GroupNormConfig) *G.Node {
	if x.Dims() < 2 {
		panic(shapeErr(name, x.Shape(), "[N, C, …]"))
	}
	c := x.Shape()[1]
	if cfg.Groups == 0 {
		cfg.Groups = DefaultGroups(c)
	}
	if cfg.Eps == 0 {
		cfg.Eps = 1e-5
	}
	if cfg.Groups < 1 || c%cfg.Groups != 0 || cfg.Eps < 0 {
		panic(fmt.Sprintf("graph: %s: GroupNorm groups %d, eps %v for %d channels: groups must divide the channels", name, cfg.Groups, cfg.Eps, c))
	}
	gamma := b.Param(name+".weight", []int{c}, Constant(1))
	beta := b.Param(name+".bias", []int{c}, Constant(0))
	return mustApply(typed(b.Dtype(),
		&groupNormKernel[float32]{groups: cfg.Groups, eps: cfg.Eps},
		&groupNormKernel[float64]{groups: cfg.Groups, eps: cfg.Eps}), x, gamma, beta)
}

// groupNormKernel: inputs x [N, C, …], γ [C], β [C]; output shaped as x.
// It keeps no state: backward recomputes each group's statistics from x
// (one pass), so it also serves per-example gradients on one-example
// slices. Examples are split among the threads; sums run in float64 in a
// fixed order, so results do not depend on the thread count.
type groupNormKernel[T float] struct {
	groups   int
	eps      float64
	examples forkSite[groupNormCall[T], *groupNormCall[T]] // forward
}

func (k *groupNormKernel[T]) name() string {
	return fmt.Sprintf("GroupNorm(groups=%d, eps=%g)", k.groups, k.eps)
}

func (*groupNormKernel[T]) differentiable() []bool { return []bool{true, true, true} }

func (k *groupNormKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) {
	x := in[0]
	if len(x) < 2 || x[1]%k.groups != 0 {
		return nil, fmt.Errorf("input %v, expected [N, C, …] with C divisible by %d groups", x, k.groups)
	}
	for i, p := range in[1:] {
		if len(p) != 1 || p[0] != x[1] {
			return nil, fmt.Errorf("parameter %d has shape %v, expected [%d]", i+1, p, x[1])
		}
	}
	return x.Clone(), nil
}

// dims returns the batch, channels, channels per group and positions per
// channel.
func (k *groupNormKernel[T]) dims(x *tensor.Dense) (n, c, cg, hw int) {
	s := x.Shape()
	n, c = s[0], s[1]
	return n, c, c / k.groups, s.TotalSize() / (n * c)
}

// stats returns the mean and 1/√(var+eps) of one group's values.
func (k *groupNormKernel[T]) stats(v []T) (mean, inv float64) {
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

func (k *groupNormKernel[T]) forward(in []*tensor.Dense, out *tensor.Dense) error {
	n, _, cg, hw := k.dims(in[0])
	x, gamma, beta, y := values[T](in[0]), values[T](in[1]), values[T](in[2]), values[T](out)
	k.examples.chunks(n, groupNormCall[T]{k: k, x: x, gamma: gamma, beta: beta, y: y, cg: cg, hw: hw})
	return nil
}

// groupNormCall is forward's arguments: part chunk normalizes the
// examples [from, to).
type groupNormCall[T float] struct {
	k                 *groupNormKernel[T]
	x, gamma, beta, y []T
	cg, hw            int // channels per group, values per channel
}

func (c *groupNormCall[T]) part(_, from, to int) {
	k, x, gamma, beta, y, cg, hw := c.k, c.x, c.gamma, c.beta, c.y, c.cg, c.hw
	size := cg * hw
	for e := from; e < to; e++ {
		for g := 0; g < k.groups; g++ {
			off := (e*k.groups + g) * size
			mean, inv := k.stats(x[off : off+size])
			for j := 0; j < cg; j++ {
				ch := g*cg + j
				a, b := float64(gamma[ch])*inv, float64(beta[ch])
				o := off + j*hw
				for p := o; p < o+hw; p++ {
					y[p] = T((float64(x[p])-mean)*a + b)
				}
			}
		}
	}
}

func (k *groupNormKernel[T]) backward(in []*tensor.Dense, _, gOut *tensor.Dense, wrt int, grad *tensor.Dense) error {
	n, c, cg, hw := k.dims(in[0])
	x, gamma, g, dst := values[T](in[0]), values[T](in[1]), values[T](gOut), values[T](grad)
	size := cg * hw
	switch wrt {
	case 0:
		// dx = inv·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) per group, dx̂ = g·γ.
		inChunks(n, func(_, from, to int) {
			for e := from; e < to; e++ {
				for gr := 0; gr < k.groups; gr++ {
					off := (e*k.groups + gr) * size
					mean, inv := k.stats(x[off : off+size])
					var sd, sdx float64
					for j := 0; j < cg; j++ {
						gm := float64(gamma[gr*cg+j])
						for p := off + j*hw; p < off+(j+1)*hw; p++ {
							d := float64(g[p]) * gm
							sd += d
							sdx += d * (float64(x[p]) - mean) * inv
						}
					}
					sd /= float64(size)
					sdx /= float64(size)
					for j := 0; j < cg; j++ {
						gm := float64(gamma[gr*cg+j])
						for p := off + j*hw; p < off+(j+1)*hw; p++ {
							xh := (float64(x[p]) - mean) * inv
							dst[p] = T(inv * (float64(g[p])*gm - sd - xh*sdx))
						}
					}
				}
			}
		})
	case 1, 2:
		// Per channel sums over examples and positions, in example order.
		acc := make([]float64, c)
		for e := 0; e < n; e++ {
			for gr := 0; gr < k.groups; gr++ {
				off := (e*k.groups + gr) * size
				mean, inv := 0.0, 1.0
				if wrt == 1 {
					mean, inv = k.stats(x[off : off+size])
				}
				for j := 0; j < cg; j++ {
					var s float64
					for p := off + j*hw; p < off+(j+1)*hw; p++ {
						if wrt == 1 {
							s += float64(g[p]) * (float64(x[p]) - mean) * inv
						} else {
							s += float64(g[p])
						}
					}
					acc[gr*cg+j] += s
				}
			}
		}
		for i, v := range acc {
			dst[i] += T(v)
		}
	}
	return nil
}

// GroupNorm's output for an example depends on that example alone, so its
// per-example parameter gradients are its backward on one-example slices.
func (k *groupNormKernel[T]) samples(in []*tensor.Dense, _, gOut *tensor.Dense, wrt int, st *opStore) (sampleGrads, error) {
	return newSliceSamples[T](k, func() kernel { return k }, in, gOut, wrt, st), nil
}

func (*groupNormKernel[T]) needsBackward() bool { return false }
