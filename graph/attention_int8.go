package graph

import (
	"fmt"
	"slices"
)

// The attention's int8 projections (quant.go explains the scheme). Its
// input projection (Q, K and V: packed, or BERT's three Linears) and its
// output projection are Linears — SelfAttention gives their weights
// RoleLinear, so `tapeml optimize --int8` quantizes them per output row as
// any Linear, as torch.ao.quantization.quantize_dynamic does for
// nn.Linear — and a float32 serving graph whose Params hold their int8
// forms runs them as the int8 Linear does (qLinear: activations quantized
// per row at run time, int32 sums). The per-head products Q·Kᵀ and P·V
// and the softmax stay float32: their operands are activations on both
// sides, which dynamic quantization of the weights does not cover.

// attnInt8 is one serving machine's int8 projections of an attention: the
// weights, shared by the model's machines, and scratch of its own.
type attnInt8 struct {
	in  *QuantWeight // [3D, D]: the input projection's parts' rows in order; nil: float32
	out *QuantWeight // [D, D]; nil: float32
	err error        // parts that do not concatenate, which outShape reports
	r   qRows
}

// attentionInt8 is the int8 form of the projections of an attention
// whose input projection has the weights named in (one packed [3D, D], or
// query, key and value [D, D]) and whose output projection has the weight
// out, in a float32 serving graph; nil when neither projection has an
// int8 form. The input projection is int8 only when all its parts are
// (the float32 parameters hold the dequantized values of the others).
func attentionInt8(b *Builder, in []string, out string) *attnInt8 {
	a := &attnInt8{out: quantFor(b, out)}
	parts := make([]*QuantWeight, len(in))
	for i, name := range in {
		if parts[i] = quantFor(b, name); parts[i] == nil {
			parts = nil
			break
		}
	}
	if parts != nil {
		a.in, a.err = concatRows(parts)
	}
	if a.in == nil && a.out == nil && a.err == nil {
		return nil
	}
	return a
}

// concatRows is the int8 weights parts, each [rows_i, cols], as one
// [Σ rows_i, cols]: per-row quantization makes that the quantization of
// the concatenated weight. For several parts it is made once and kept
// with the first, so that the model's machines share it and its packing.
func concatRows(parts []*QuantWeight) (*QuantWeight, error) {
	if len(parts) == 1 {
		return parts[0], nil
	}
	key := "rows"
	for _, p := range parts[1:] {
		key += fmt.Sprintf(" %p", p)
	}
	if v, ok := parts[0].extra.Load(key); ok {
		return v.(*QuantWeight), nil
	}
	cols := parts[0].Cols()
	c := &QuantWeight{Shape: []int{0, cols}}
	for i, p := range parts {
		if len(p.Shape) != 2 || p.Cols() != cols {
			return nil, fmt.Errorf("input projection part %d: int8 weight %v, expected [rows, %d]", i, p.Shape, cols)
		}
		c.Q = append(c.Q, p.Q...)
		c.Scale = append(c.Scale, p.Scale...)
		c.Shape[0] += p.Rows()
	}
	v, _ := parts[0].extra.LoadOrStore(key, c)
	return v.(*QuantWeight), nil
}

// check reports whether the int8 weights fit an attention of width d.
func (a *attnInt8) check(d int) error {
	if a.err != nil {
		return a.err
	}
	for _, w := range []struct {
		name string
		q    *QuantWeight
		rows int
	}{{"input projection", a.in, 3 * d}, {"output projection", a.out, d}} {
		if w.q != nil && !slices.Equal(w.q.Shape, []int{w.rows, d}) {
			return fmt.Errorf("%s: int8 weight %v, expected [%d, %d]", w.name, w.q.Shape, w.rows, d)
		}
	}
	return nil
}

// projectIn sets qkv [rows, 3d] = x [rows, d]·W_inᵀ + bias, the biases
// stored with the product; the input projection must be int8.
func (a *attnInt8) projectIn(x []float32, rows, d int, bias, qkv []float32) {
	qLinear(qthreads(rows, 3*d, d), x, rows, d, d, a.in, qkv, 3*d, false, bias, &a.r)
}

// projectOut sets y [rows, d] = ctx [rows, d]·W_oᵀ + bias, the bias stored
// with the product, and reports whether it did: false when the output
// projection is float32.
func (a *attnInt8) projectOut(ctx []float32, rows, d int, bias, y []float32) bool {
	if a.out == nil {
		return false
	}
	qLinear(qthreads(rows, d, d), ctx, rows, d, d, a.out, y, d, false, bias, &a.r)
	return true
}
