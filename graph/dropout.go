package graph

import (
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Dropout is PyTorch's nn.Dropout(p): in the training graph each element is
// zeroed with probability p and the rest scaled by 1/(1−p); in the inference
// graph it is the identity. Masks come from the Builder's Noise, so they are
// reproducible (Gorgonia's own dropout seeds from the clock).
func Dropout(b *Builder, x *G.Node, p float64) *G.Node {
	if p < 0 || p >= 1 {
		panic(fmt.Sprintf("graph: dropout probability %v outside [0, 1)", p))
	}
	if !b.Training() || p == 0 {
		return x
	}
	stream := b.nextStream()
	return mustApply(typed(b.Dtype(),
		&dropoutKernel[float32]{p: p, noise: b.Noise, stream: stream},
		&dropoutKernel[float64]{p: p, noise: b.Noise, stream: stream}), x)
}

type dropoutKernel[T float] struct {
	p      float64
	noise  *Noise
	stream uint64
	mask   []T // 0 or 1/(1−p), drawn in forward, used by backward
}

func (k *dropoutKernel[T]) name() string { return fmt.Sprintf("Dropout(%v)", k.p) }

func (*dropoutKernel[T]) differentiable() []bool { return []bool{true} }

func (*dropoutKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) {
	return in[0].Clone(), nil
}

func (k *dropoutKernel[T]) forward(in []*tensor.Dense, out *tensor.Dense) error {
	x, y := values[T](in[0]), values[T](out)
	if cap(k.mask) < len(x) {
		k.mask = make([]T, len(x))
	}
	k.mask = k.mask[:len(x)]
	// One stream per (seed, layer), positioned by the step: the mask is a
	// pure function of those three. An element is dropped when the
	// stream's next rand.Float64, v/2⁵³ for v the low 53 bits of its next
	// Uint64, is below p: when v < ⌈p·2⁵³⌉ (p·2⁵³ is exact). The same draws
	// as through a rand.Rand, without its interface call per element, and
	// the comparison is a borrow bit, not a branch that would mispredict
	// half the time at p = 0.5.
	src := rand.NewPCG(k.noise.Seed^(k.stream*0x9e3779b97f4a7c15), k.noise.Step)
	keep := T(1 / (1 - k.p))
	drop := uint64(math.Ceil(k.p * (1 << 53)))
	mask := k.mask[:len(x)]
	y = y[:len(x)]
	for i, v := range x {
		dropped := (src.Uint64()<<11>>11 - drop) >> 63 // 1 when below drop (both < 2⁵³)
		m := keep * T(1-dropped)
		mask[i] = m
		y[i] = v * m
	}
	return nil
}

func (k *dropoutKernel[T]) backward(_ []*tensor.Dense, _, gOut *tensor.Dense, _ int, grad *tensor.Dense) error {
	g, d := values[T](gOut), values[T](grad)
	for i, m := range k.mask {
		d[i] = g[i] * m
	}
	return nil
}
