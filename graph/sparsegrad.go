package graph

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// An embedding table's gradient is zero except in the rows of the batch's
// ids: a few thousand of tens of thousands. The optimizers still see the
// whole dense gradient, as PyTorch's do with nn.Embedding's default dense
// gradients (so Adam's moments decay in every row and parity holds), but
// the kernel clears only the rows it wrote the time before instead of the
// whole table.
//
// That is only right while nothing else writes into the gradient between
// runs, so Compile enables it only where the table's gradient node is the
// embedding's own gradient op (a table used once; a shared table's
// gradient is a sum Gorgonia may compute in place), and only while the
// kernel is handed the same buffer as last time.

// sparseGradKernel is a kernel whose gradient with respect to input wrt
// can be maintained row by row.
type sparseGradKernel interface{ sparseGrad(wrt int) }

// sparseGradient switches the kernel computing a parameter's gradient
// node to row-by-row clearing when it supports it.
func sparseGradient(n *G.Node) {
	op, ok := n.Op().(*kernelGradOp)
	if !ok {
		return
	}
	if k, ok := op.fwd.k.(sparseGradKernel); ok {
		k.sparseGrad(op.wrt)
	}
}

// sparseRows returns the rows the last run wrote into grad, the value of
// gradient node n, when n is maintained row by row; nil otherwise.
func sparseRows(n *G.Node, grad *tensor.Dense) []int32 {
	op, ok := n.Op().(*kernelGradOp)
	if !ok {
		return nil
	}
	switch k := op.fwd.k.(type) {
	case *embeddingKernel[float32]:
		return k.rows.written(grad.Float32s())
	case *embeddingKernel[float64]:
		return k.rows.written(grad.Float64s())
	}
	return nil
}

// written returns the rows written into d by the last backward, or nil
// when d was not written row by row.
func (r *embeddingRows[T]) written(d []T) []int32 {
	if r == nil || !r.sparse || len(d) == 0 || len(r.last) != len(d) || &r.last[0] != &d[0] {
		return nil
	}
	if r.touched == nil {
		return []int32{}
	}
	return r.touched
}

func (k embeddingKernel[T]) sparseGrad(wrt int) {
	if wrt == 1 && k.rows != nil {
		k.rows.sparse = true
	}
}

// embeddingRows remembers which rows of which gradient buffer the last
// backward wrote.
type embeddingRows[T float] struct {
	sparse  bool
	last    []T     // the buffer last written
	touched []int32 // its nonzero rows, each once
	mark    []bool  // per row: in touched
}

// prepare makes d all zeros: by clearing the rows written last time when d
// is the buffer written last time, and all of it otherwise.
func (r *embeddingRows[T]) prepare(d []T, vocab, dim int) {
	if len(d) > 0 && len(r.last) == len(d) && &r.last[0] == &d[0] && len(r.mark) == vocab {
		for _, id := range r.touched {
			clear(d[int(id)*dim : (int(id)+1)*dim])
			r.mark[id] = false
		}
	} else {
		clear(d)
		if len(r.mark) != vocab {
			r.mark = make([]bool, vocab)
		} else {
			clear(r.mark)
		}
	}
	r.touched, r.last = r.touched[:0], d
}

// touch records that row id is written.
func (r *embeddingRows[T]) touch(id int) {
	if !r.mark[id] {
		r.mark[id] = true
		r.touched = append(r.touched, int32(id))
	}
}
