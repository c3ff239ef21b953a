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
	return embedding(b, name, ids, vocab, dim, paddingIdx, 0, Normal(1))
}

// BigramEmbedding is fastText's input layer (Joulin et al. 2016) as a
// per-position sum: ids [N, T] of words in [0, words) (0 = padding) become
// vectors [N, T, dim] from "<name>.weight" [words+buckets, dim], position
// t holding the word's row plus, when t and t+1 are both words and
// buckets > 0, the row of the hashed bigram, words +
// BigramBucket(ids[t], ids[t+1], buckets). Row 0 is padding, as in
// Embedding with paddingIdx 0; the other rows start as fastText's,
// U(−1/dim, 1/dim). TokenMean averages the result over words and bigrams.
func BigramEmbedding(b *Builder, name string, ids *G.Node, words, buckets, dim int) *G.Node {
	if buckets < 0 {
		panic(fmt.Sprintf("graph: BigramEmbedding %s: %d buckets", name, buckets))
	}
	return embedding(b, name, ids, words+buckets, dim, 0, buckets, Uniform(1/float64(dim)))
}

// BigramBucket is the hash bucket, in [0, buckets), of the word pair
// (a, b): (a·116049371 + b) mod buckets, with fastText's multiplier. Word
// ids are below 2²² (the text kinds' limit), so the product fits in 63 bits.
func BigramBucket(a, b, buckets int64) int64 { return (a*116049371 + b) % buckets }

func embedding(b *Builder, name string, ids *G.Node, vocab, dim, paddingIdx, buckets int, rows Init) *G.Node {
	if ids.Dims() != 2 {
		panic(shapeErr(name, ids.Shape(), "[N, T]"))
	}
	init := rows
	if paddingIdx != NoPadding {
		init = func(rng *rand.Rand, shape []int, vals []float64) {
			rows(rng, shape, vals)
			clear(vals[paddingIdx*dim : (paddingIdx+1)*dim])
		}
	}
	w := b.Param(name+".weight", []int{vocab, dim}, init)
	b.role(name+".weight", RoleEmbedding)
	k32 := &embeddingKernel[float32]{pad: paddingIdx, buckets: buckets, rows: &embeddingRows[float32]{}}
	k64 := &embeddingKernel[float64]{pad: paddingIdx, buckets: buckets, rows: &embeddingRows[float64]{}}
	if b.attribution {
		return b.embeddingInput(name, ids, dim, func(ids, table *tensor.Dense, out *tensor.Dense) error {
			if table.Dtype() == tensor.Float64 {
				return k64.forward([]*tensor.Dense{ids, table}, out)
			}
			return k32.forward([]*tensor.Dense{ids, table}, out)
		})
	}
	return mustApply(typed(b.Dtype(), k32, k64), ids, w)
}

// lookup adds the embedding lookup of ids [N, T] in the table w.
func lookup(b *Builder, ids, w *G.Node, paddingIdx int) *G.Node {
	return mustApply(typed(b.Dtype(),
		&embeddingKernel[float32]{pad: paddingIdx, rows: &embeddingRows[float32]{}},
		&embeddingKernel[float64]{pad: paddingIdx, rows: &embeddingRows[float64]{}}), ids, w)
}

// PositionEmbedding adds learned absolute position embeddings to x
// [N, T, D]: row t of "<name>.weight" [maxLen, D] (initialized with init)
// to position t of every example, as BERT's position_embeddings of
// position_ids = 0…T−1, which do not depend on the padding. It is an
// embedding lookup of those ids plus Add, so it has the embedding's
// per-example gradients; unlike Embedding it stays a lookup in
// attribution graphs, whose gradients are taken at the token embeddings.
func PositionEmbedding(b *Builder, name string, x *G.Node, maxLen int, init Init) *G.Node {
	if x.Dims() != 3 || x.Shape()[1] > maxLen {
		panic(shapeErr(name, x.Shape(), fmt.Sprintf("[N, T ≤ %d, D]", maxLen)))
	}
	n, t, d := x.Shape()[0], x.Shape()[1], x.Shape()[2]
	w := b.Param(name+".weight", []int{maxLen, d}, init)
	b.role(name+".weight", RoleEmbedding)
	pos := tensor.New(tensor.Of(b.Dtype()), tensor.WithShape(n, t))
	for i := range n * t {
		pos.Set(i, castFloat(b.Dtype(), float64(i%t)))
	}
	ids := G.NewTensor(b.G, b.Dtype(), 2, G.WithShape(n, t), G.WithName(name+".position_ids"), G.WithValue(pos))
	return Add(x, lookup(b, ids, w, NoPadding))
}

// TokenTypeEmbedding adds token type (segment) embeddings to x [N, T, D]:
// the row of "<name>.weight" [types, D] (initialized with init) that each
// position's id in ids [N, T] selects, as BERT's token_type_embeddings.
// Like PositionEmbedding it stays a lookup in attribution graphs.
func TokenTypeEmbedding(b *Builder, name string, x, ids *G.Node, types int, init Init) *G.Node {
	if x.Dims() != 3 || ids.Dims() != 2 || ids.Shape()[0] != x.Shape()[0] || ids.Shape()[1] != x.Shape()[1] {
		panic(shapeErr(name, ids.Shape(), fmt.Sprintf("[%d, %d] ids for x %v", x.Shape()[0], x.Shape()[1], x.Shape())))
	}
	w := b.Param(name+".weight", []int{types, x.Shape()[2]}, init)
	b.role(name+".weight", RoleEmbedding)
	return Add(x, lookup(b, ids, w, NoPadding))
}

// castFloat returns f as a value of dt, for tensor.Set.
func castFloat(dt tensor.Dtype, f float64) any {
	if dt == tensor.Float32 {
		return float32(f)
	}
	return f
}

// embeddingKernel: inputs ids [N, T], weight [V, D]; output [N, T, D].
// rows, when not nil, lets the weight gradient be cleared row by row (see
// embeddingRows). With buckets > 0 (BigramEmbedding) a position also adds
// its bigram's row.
type embeddingKernel[T float] struct {
	pad     int
	buckets int
	rows    *embeddingRows[T]
}

func (k embeddingKernel[T]) name() string {
	if k.buckets > 0 {
		return fmt.Sprintf("BigramEmbedding(buckets=%d)", k.buckets)
	}
	return fmt.Sprintf("Embedding(pad=%d)", k.pad)
}

func (embeddingKernel[T]) differentiable() []bool { return []bool{false, true} }

func (embeddingKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in[0]) != 2 || len(in[1]) != 2 {
		return nil, fmt.Errorf("ids %v and weight %v: expected [N, T] and [vocab, dim]", in[0], in[1])
	}
	return tensor.Shape{in[0][0], in[0][1], in[1][1]}, nil
}

// bigram is the table row of the bigram starting at position i of ids
// (rows of steps values), or −1 when there is none.
func (k embeddingKernel[T]) bigram(ids []T, i, steps, vocab int) int {
	if k.buckets == 0 || (i+1)%steps == 0 {
		return -1
	}
	a, b := int64(ids[i]), int64(ids[i+1])
	if a == 0 || b == 0 {
		return -1
	}
	return vocab - k.buckets + int(BigramBucket(a, b, int64(k.buckets)))
}

func (k embeddingKernel[T]) forward(in []*tensor.Dense, out *tensor.Dense) error {
	ids, w, y := values[T](in[0]), values[T](in[1]), values[T](out)
	vocab, dim := in[1].Shape()[0], in[1].Shape()[1]
	words, steps := vocab-k.buckets, in[0].Shape()[1]
	for i, f := range ids {
		id := int(f)
		if id < 0 || id >= words || T(id) != f {
			return fmt.Errorf("token id %v at position %d is outside [0, %d)", f, i, words)
		}
		copy(y[i*dim:(i+1)*dim], w[id*dim:(id+1)*dim])
	}
	if k.buckets > 0 {
		for i := range ids {
			if r := k.bigram(ids, i, steps, vocab); r >= 0 {
				dst, src := y[i*dim:(i+1)*dim], w[r*dim:(r+1)*dim]
				for j := range dst {
					dst[j] += src[j]
				}
			}
		}
	}
	return nil
}

func (k embeddingKernel[T]) backward(in []*tensor.Dense, _, gOut *tensor.Dense, _ int, grad *tensor.Dense) error {
	ids, g, d := values[T](in[0]), values[T](gOut), values[T](grad)
	vocab, dim := in[1].Shape()[0], in[1].Shape()[1]
	steps := in[0].Shape()[1]
	r := k.rows
	if r != nil && !r.sparse {
		r = nil
	}
	if r != nil {
		r.prepare(d, vocab, dim)
	}
	add := func(id int, gi []T) {
		if r != nil {
			r.touch(id)
		}
		row := d[id*dim : (id+1)*dim]
		for j := range row {
			row[j] += gi[j]
		}
	}
	for i, f := range ids {
		gi := g[i*dim : (i+1)*dim]
		if id := int(f); id != k.pad {
			add(id, gi)
		}
		if b := k.bigram(ids, i, steps, vocab); b >= 0 {
			add(b, gi)
		}
	}
	return nil
}
