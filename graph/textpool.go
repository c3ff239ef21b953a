package graph

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TextMaxPool is the max-over-time pooling of a text convolution that does
// not see the padding: x [N, C, L+K−1] is a "full" convolution of kernel
// width K over ids [N, L] (Conv1D with Padding K−1 over embeddings whose
// padding row is zero), whose position t reads tokens t−K+1 … t; the
// result [N, C] is the maximum over the positions that read at least one
// token whose id is not padID, and 0 for a text of padding only. A text's
// features therefore depend on its tokens alone, not on how much padding
// surrounds them or on which side. ids are data: no gradient flows to
// them.
func TextMaxPool(x, ids *G.Node, kernel, padID int) *G.Node {
	if x.Dims() != 3 || ids.Dims() != 2 {
		panic(fmt.Errorf("TextMaxPool: x %v and ids %v, expected [N, C, L+K−1] and [N, L]", x.Shape(), ids.Shape()))
	}
	return mustApply(typed(x.Dtype(),
		&textMaxPoolKernel[float32]{kernel: kernel, pad: padID},
		&textMaxPoolKernel[float64]{kernel: kernel, pad: padID}), x, ids)
}

type textMaxPoolKernel[T float] struct {
	kernel, pad int
	argmax      []int32 // per output: the input index of its maximum, −1 for none
}

func (k *textMaxPoolKernel[T]) name() string {
	return fmt.Sprintf("TextMaxPool(kernel=%d, pad=%d)", k.kernel, k.pad)
}

func (*textMaxPoolKernel[T]) differentiable() []bool { return []bool{true, false} }

func (k *textMaxPoolKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) {
	x, ids := in[0], in[1]
	if len(x) != 3 || len(ids) != 2 || x[0] != ids[0] || k.kernel < 1 || x[2] != ids[1]+k.kernel-1 {
		return nil, fmt.Errorf("x %v and ids %v: expected [N, C, L+%d] and [N, L]", x, ids, k.kernel-1)
	}
	return tensor.Shape{x[0], x[1]}, nil
}

// windows marks, for one text's ids [L], which of the L+K−1 positions of
// a full convolution read a token: valid[t] for t in [0, L+K−1).
func windows[T float](ids []T, kernel int, pad T, valid []bool) {
	// last is the position of the latest token at or before t.
	last := -kernel
	for t := range valid {
		if t < len(ids) && ids[t] != pad {
			last = t
		}
		valid[t] = t-last < kernel
	}
}

func (k *textMaxPoolKernel[T]) forward(in []*tensor.Dense, out *tensor.Dense) error {
	x, ids, y := values[T](in[0]), values[T](in[1]), values[T](out)
	n, c, lx := in[0].Shape()[0], in[0].Shape()[1], in[0].Shape()[2]
	l := in[1].Shape()[1]
	if cap(k.argmax) < len(y) {
		k.argmax = make([]int32, len(y))
	}
	k.argmax = k.argmax[:len(y)]
	valid := make([]bool, lx)
	for i := 0; i < n; i++ {
		windows(ids[i*l:(i+1)*l], k.kernel, T(k.pad), valid)
		for ch := 0; ch < c; ch++ {
			base := (i*c + ch) * lx
			row := x[base : base+lx]
			best, at := T(math.Inf(-1)), -1
			for t, v := range row {
				if !valid[t] {
					continue
				}
				if at < 0 || v > best || v != v { // the first maximum; NaN propagates
					best, at = v, t
					if v != v {
						break
					}
				}
			}
			if at < 0 {
				y[i*c+ch], k.argmax[i*c+ch] = 0, -1
				continue
			}
			y[i*c+ch], k.argmax[i*c+ch] = best, int32(base+at)
		}
	}
	return nil
}

func (k *textMaxPoolKernel[T]) backward(_ []*tensor.Dense, _, gOut *tensor.Dense, _ int, grad *tensor.Dense) error {
	g, d := values[T](gOut), values[T](grad)
	for i, at := range k.argmax {
		if at >= 0 {
			d[at] += g[i]
		}
	}
	return nil
}

func (*textMaxPoolKernel[T]) writesAll(wrt int) bool { return wrt < 0 }

// TokenMean averages a text's vectors over its tokens: x [N, T, D] (an
// embedding of ids [N, T]) → [N, D], the sum of the rows whose id is not
// padID divided by the number of items they hold — the tokens, plus with
// bigrams the pairs of adjacent tokens BigramEmbedding added — and 0 for a
// text of padding only. ids are data: no gradient flows to them.
func TokenMean(x, ids *G.Node, padID int, bigrams bool) *G.Node {
	if x.Dims() != 3 || ids.Dims() != 2 {
		panic(fmt.Errorf("TokenMean: x %v and ids %v, expected [N, T, D] and [N, T]", x.Shape(), ids.Shape()))
	}
	return mustApply(typed(x.Dtype(),
		&tokenMeanKernel[float32]{pad: padID, bigrams: bigrams},
		&tokenMeanKernel[float64]{pad: padID, bigrams: bigrams}), x, ids)
}

type tokenMeanKernel[T float] struct {
	pad     int
	bigrams bool
}

func (k *tokenMeanKernel[T]) name() string {
	return fmt.Sprintf("TokenMean(pad=%d, bigrams=%v)", k.pad, k.bigrams)
}

func (*tokenMeanKernel[T]) differentiable() []bool { return []bool{true, false} }

func (*tokenMeanKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) {
	x, ids := in[0], in[1]
	if len(x) != 3 || len(ids) != 2 || x[0] != ids[0] || x[1] != ids[1] {
		return nil, fmt.Errorf("x %v and ids %v: expected [N, T, D] and [N, T]", x, ids)
	}
	return tensor.Shape{x[0], x[2]}, nil
}

// items is the number of tokens, and with bigrams of adjacent token
// pairs, of one text's ids.
func (k *tokenMeanKernel[T]) items(ids []T) int {
	pad, n := T(k.pad), 0
	for t, id := range ids {
		if id == pad {
			continue
		}
		n++
		if k.bigrams && t+1 < len(ids) && ids[t+1] != pad {
			n++
		}
	}
	return n
}

func (k *tokenMeanKernel[T]) forward(in []*tensor.Dense, out *tensor.Dense) error {
	x, ids, y := values[T](in[0]), values[T](in[1]), values[T](out)
	n, steps, dim := in[0].Shape()[0], in[0].Shape()[1], in[0].Shape()[2]
	clear(y)
	for i := 0; i < n; i++ {
		row := ids[i*steps : (i+1)*steps]
		c := k.items(row)
		if c == 0 {
			continue
		}
		yi := y[i*dim : (i+1)*dim]
		for t, id := range row {
			if id == T(k.pad) {
				continue
			}
			for j, v := range x[(i*steps+t)*dim : (i*steps+t+1)*dim] {
				yi[j] += v
			}
		}
		inv := 1 / T(c)
		for j := range yi {
			yi[j] *= inv
		}
	}
	return nil
}

func (k *tokenMeanKernel[T]) backward(in []*tensor.Dense, _, gOut *tensor.Dense, _ int, grad *tensor.Dense) error {
	ids, g, d := values[T](in[1]), values[T](gOut), values[T](grad)
	n, steps, dim := in[0].Shape()[0], in[0].Shape()[1], in[0].Shape()[2]
	for i := 0; i < n; i++ {
		row := ids[i*steps : (i+1)*steps]
		c := k.items(row)
		if c == 0 {
			continue
		}
		inv := 1 / T(c)
		gi := g[i*dim : (i+1)*dim]
		for t, id := range row {
			if id == T(k.pad) {
				continue
			}
			dst := d[(i*steps+t)*dim : (i*steps+t+1)*dim]
			for j, v := range gi {
				dst[j] += v * inv
			}
		}
	}
	return nil
}

func (*tokenMeanKernel[T]) writesAll(wrt int) bool { return wrt < 0 }
