package graph

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// NoPadding disables Embedding's padding index.
const NoPadding = -1

// Embedding is PyTorch's nn.Embedding: ids [N, T] (integral values stored as
// floats) become vectors [N, T, dim] from "<name>.weight" [vocab, dim],
// initialized N(0, 1). The row of paddingIdx (unless NoPadding) starts at
// zero and receives no gradient, so it stays zero. An id outside
// [0, vocab) is an error at run time.
func Embedding(b *Builder, name string, ids *G.Node, vocab, dim, paddingIdx int) *G.Node {
	if ids.Dims() != 2 {
		panic(shapeErr(name, ids.Shape(), "[N, T]"))
	}
	init := Normal(1)
	if paddingIdx != NoPadding {
		init = func(rng *rand.Rand, shape []int, vals []float64) {
			Normal(1)(rng, shape, vals)
			clear(vals[paddingIdx*dim : (paddingIdx+1)*dim])
		}
	}
	w := b.Param(name+".weight", []int{vocab, dim}, init)
	b.role(name+".weight", RoleEmbedding)
	if b.attribution {
		return b.embeddingInput(name, ids, dim)
	}
	return mustApply(typed(b.Dtype(),
		&embeddingKernel[float32]{pad: paddingIdx, rows: &embeddingRows[float32]{}},
		&embeddingKernel[float64]{pad: paddingIdx, rows: &embeddingRows[float64]{}}), ids, w)
}

// embeddingKernel: inputs ids [N, T], weight [V, D]; output [N, T, D].
// rows, when not nil, lets the weight gradient be cleared row by row (see
// embeddingRows).
type embeddingKernel[T float] struct {
	pad  int
	rows *embeddingRows[T]
}

func (k embeddingKernel[T]) name() string { return fmt.Sprintf("Embedding(pad=%d)", k.pad) }

func (embeddingKernel[T]) differentiable() []bool { return []bool{false, true} }

func (embeddingKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in[0]) != 2 || len(in[1]) != 2 {
		return nil, fmt.Errorf("ids %v and weight %v: expected [N, T] and [vocab, dim]", in[0], in[1])
	}
	return tensor.Shape{in[0][0], in[0][1], in[1][1]}, nil
}

func (embeddingKernel[T]) forward(in []*tensor.Dense, out *tensor.Dense) error {
	ids, w, y := values[T](in[0]), values[T](in[1]), values[T](out)
	vocab, dim := in[1].Shape()[0], in[1].Shape()[1]
	for i, f := range ids {
		id := int(f)
		if id < 0 || id >= vocab || T(id) != f {
			return fmt.Errorf("token id %v at position %d is outside [0, %d)", f, i, vocab)
		}
		copy(y[i*dim:(i+1)*dim], w[id*dim:(id+1)*dim])
	}
	return nil
}

func (k embeddingKernel[T]) backward(in []*tensor.Dense, _, gOut *tensor.Dense, _ int, grad *tensor.Dense) error {
	ids, g, d := values[T](in[0]), values[T](gOut), values[T](grad)
	vocab, dim := in[1].Shape()[0], in[1].Shape()[1]
	r := k.rows
	if r != nil && !r.sparse {
		r = nil
	}
	if r != nil {
		r.prepare(d, vocab, dim)
	}
	for i, f := range ids {
		id := int(f)
		if id == k.pad {
			continue
		}
		if r != nil {
			r.touch(id)
		}
		row, gi := d[id*dim:(id+1)*dim], g[i*dim:(i+1)*dim]
		for j := range row {
			row[j] += gi[j]
		}
	}
	return nil
}
