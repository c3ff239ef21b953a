package graph

import (
	"fmt"
	"sync"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// Linear is PyTorch's nn.Linear: y = x·Wᵀ + b for x [N, …, in] (y
// [N, …, out]), with weight "<name>.weight" [out, in] and bias
// "<name>.bias" [out]. Every axis but the last is a row of the product;
// the first is the batch, which per-example gradients split on.
func Linear(b *Builder, name string, x *G.Node, out int, bias bool) *G.Node {
	return linear(b, name, x, out, bias, false, false)
}

// linear is Linear, or LinearGELU's fused serving kernel with gelu, or
// LinearReLU's with relu.
func linear(b *Builder, name string, x *G.Node, out int, bias, gelu, relu bool) *G.Node {
	if x.Dims() < 2 {
		panic(shapeErr(name, x.Shape(), "[N, …, in]"))
	}
	in := x.Shape()[x.Dims()-1]
	w := b.Param(name+".weight", []int{out, in}, KaimingUniform)
	b.role(name+".weight", RoleLinear)
	args := []*G.Node{x, w}
	if bias {
		args = append(args, b.Param(name+".bias", []int{out}, BiasUniform(in)))
	}
	if q := quantFor(b, name+".weight"); q != nil {
		return mustApply(&linearInt8Kernel{q: q}, args...)
	}
	if inferFast(b) {
		return mustApply(&linearInferKernel{w: b.Params.packedFor(name + ".weight"), gelu: gelu, relu: relu}, args...)
	}
	return mustApply(typed(b.Dtype(), &linearKernel[float32]{}, &linearKernel[float64]{}), args...)
}

// LinearGELU is GELU(Linear(b, name, x, out, bias)), a feed-forward
// block's first layer. The serving graph (float32 with the packed product,
// not int8) applies the GELU in the product's kernel, each thread to its
// stripe of columns as soon as it is computed, with no fork and join and
// no pass over the tensor of its own; other graphs build the two nodes.
func LinearGELU(b *Builder, name string, x *G.Node, out int, bias bool) *G.Node {
	if !inferFast(b) || quantFor(b, name+".weight") != nil {
		return GELU(Linear(b, name, x, out, bias))
	}
	return linear(b, name, x, out, bias, true, false)
}

// LinearReLU is ReLU(Linear(b, name, x, out, bias)), a hidden layer. The
// serving graph (float32 with the packed product, not int8) rectifies in
// the product's kernel as LinearGELU applies its GELU — for the ConvNet's
// fc.0 at a batch of 32, in the transpose of yᵀ — with the same bits as
// the ReLU node and without its fork and pass; other graphs build the two
// nodes.
func LinearReLU(b *Builder, name string, x *G.Node, out int, bias bool) *G.Node {
	if !inferFast(b) || quantFor(b, name+".weight") != nil {
		return ReLU(Linear(b, name, x, out, bias))
	}
	return linear(b, name, x, out, bias, false, true)
}

// linearKernel: inputs x [N, …, in], w [out, in], optional b [out]; output
// [N, …, out].
type linearKernel[T float] struct{}

func (linearKernel[T]) name() string { return "Linear" }

func (linearKernel[T]) differentiable() []bool { return []bool{true, true, true} }

func (linearKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) {
	x, w := in[0], in[1]
	if len(x) < 2 || len(w) != 2 || x[len(x)-1] != w[1] {
		return nil, fmt.Errorf("x %v and weight %v: expected [N, …, in] and [out, in]", x, w)
	}
	if len(in) == 3 && (len(in[2]) != 1 || in[2][0] != w[0]) {
		return nil, fmt.Errorf("bias %v, expected [%d]", in[2], w[0])
	}
	s := x.Clone()
	s[len(s)-1] = w[0]
	return s, nil
}

// linearDims returns a Linear's rows (every axis of x but the last), input
// width and output width.
func linearDims(x, w *tensor.Dense) (n, k, m int) {
	k = w.Shape()[1]
	return x.Shape().TotalSize() / k, k, w.Shape()[0]
}

func (linearKernel[T]) forward(in []*tensor.Dense, out *tensor.Dense) error {
	x, w, y := values[T](in[0]), values[T](in[1]), values[T](out)
	n, k, m := linearDims(in[0], in[1])
	if n < m && kern.Packed() {
		if y32, ok := any(y).([]float32); ok {
			var bias []float32
			if len(in) == 3 {
				bias = values[float32](in[2])
			}
			linearFewRows(any(x).([]float32), any(w).([]float32), bias, y32, n, k, m)
			return nil
		}
	}
	var beta T
	if len(in) == 3 {
		bias := values[T](in[2])
		for i := 0; i < n; i++ {
			copy(y[i*m:(i+1)*m], bias)
		}
		beta = 1
	}
	gemm(maxThreads(), false, true, n, m, k, 1, x, k, w, k, beta, y, m) // [N, out] = x·wᵀ
	return nil
}

func (linearKernel[T]) backward(in []*tensor.Dense, _, gOut *tensor.Dense, wrt int, grad *tensor.Dense) error {
	x, w, g, d := values[T](in[0]), values[T](in[1]), values[T](gOut), values[T](grad)
	n, k, m := linearDims(in[0], in[1])
	switch wrt {
	case 0:
		if g32, ok := any(g).([]float32); ok && inputGradInPlace(n, k, m) {
			linearInputGrad(g32, any(w).([]float32), any(d).([]float32), n, k, m)
			return nil
		}
		gemm(maxThreads(), false, false, n, k, m, 1, g, m, w, k, 0, d, k) // [N, in] = g·w
	case 1:
		if g32, ok := any(g).([]float32); ok && weightGradByPanels(n, k, m) {
			linearWeightGrad(g32, any(x).([]float32), any(d).([]float32), n, k, m)
			return nil
		}
		gemm(maxThreads(), true, false, m, k, n, 1, g, m, x, k, 0, d, k) // [out, in] = gᵀ·x
	case 2:
		for i := 0; i < n; i++ {
			for j, v := range g[i*m : (i+1)*m] {
				d[j] += v
			}
		}
	}
	return nil
}

// linearFewRows is the float32 forward pass of a Linear with fewer rows
// than outputs (a batch of 32 through the ConvNet's 8192→1024 layer): it
// computes yᵀ [out, N] = w·xᵀ and transposes it into y. The packed product
// copies its B operand into panels; as x·wᵀ that operand is the whole
// weight, transposed (32 MB for that layer, on every step), while as w·xᵀ
// the weight is read in place and only x is packed. Every element is the
// same sum in the same order (from the bias, as y = bias + x·wᵀ with beta
// 1), so the bits are those of the other form.
func linearFewRows(x, w, bias, y []float32, n, k, m int) {
	buf := linearScratch.Get().(*[]float32)
	defer linearScratch.Put(buf)
	if cap(*buf) < m*n {
		*buf = make([]float32, m*n)
	}
	yT := (*buf)[:m*n]
	var beta float32
	if bias != nil {
		for j, b := range bias {
			row := yT[j*n : (j+1)*n]
			for i := range row {
				row[i] = b
			}
		}
		beta = 1
	}
	kern.Sgemm(maxThreads(), false, true, m, n, k, 1, w, k, x, k, beta, yT, n)
	transpose(y, yT, m, n)
}

// linearScratch holds linearFewRows' transposed outputs.
var linearScratch = sync.Pool{New: func() any { return new([]float32) }}

// weightGradPanel is the rows of the weight gradient one packed product
// stores at a time in linearWeightGrad: two micro-tiles high.
const weightGradPanel = 24

// weightGradByPanels reports whether the float32 weight gradient of a
// Linear with n rows, k inputs and m outputs goes through
// linearWeightGrad: a large gradient (4 MiB or more) over a shallow depth
// (x at most 1 MiB), such as the ConvNet's 8192→1024 layer at batch 32,
// whose product is bound by storing the gradient.
func weightGradByPanels(n, k, m int) bool {
	return kern.Packed() && n <= 256 && n*k <= 1<<18 && m*k >= 1<<20
}

// linearWeightGrad stores the weight gradient d [m, k] = gᵀ·x of a Linear
// (g [n, m], x [n, k]) in stripes of whole rows, one per thread, each row
// in one pass from its first column to its last. The general product
// stores blocks of 96 rows a few columns at a time, scattering its stores
// over 96 rows at once, and runs at about 60% of this
// (BenchmarkLinearGrad). With AVX-512 each thread reads gᵀ in place
// and stores whole tiles with non-temporal stores
// (kernel.SgemmTransA), which do not read the gradient's lines into the
// cache before writing them; otherwise x is packed once and shared, and
// each thread stores panels of weightGradPanel rows. Every element is the
// same sum over the n rows in the same order, so the bits are the general
// product's.
func linearWeightGrad(g, x, d []float32, n, k, m int) {
	if kern.Active() >= kern.AVX512 {
		const tile = 12 // the micro-tile's rows
		inChunks((m+tile-1)/tile, func(_, from, to int) {
			r0, r1 := from*tile, min(to*tile, m)
			kern.SgemmTransA(r1-r0, k, n, g[r0:], m, false, x, k, d[r0*k:], k, true)
		})
		return
	}
	linearWeightGradPanels(g, x, d, n, k, m)
}

// linearWeightGradPanels is linearWeightGrad through the packed product:
// x packed once, whole panels of weightGradPanel rows per call.
func linearWeightGradPanels(g, x, d []float32, n, k, m int) {
	p := weightGradPack.Get().(*kern.PackedB)
	defer weightGradPack.Put(p)
	p.Pack(false, x, k, n, k)
	panels := (m + weightGradPanel - 1) / weightGradPanel
	inChunks(panels, func(_, from, to int) {
		for r := from * weightGradPanel; r < min(to*weightGradPanel, m); r += weightGradPanel {
			kern.SgemmPacked(true, min(weightGradPanel, m-r), k, n, 1, g[r:], m, p, 0, d[r*k:], k)
		}
	})
}

// weightGradPack holds linearWeightGrad's packed inputs.
var weightGradPack = sync.Pool{New: func() any { return new(kern.PackedB) }}

// inputGradInPlace reports whether the float32 input gradient of a Linear
// with n rows, k inputs and m outputs goes through linearInputGrad: few
// rows (at most 64) against a large weight (4 MiB or more), such as the
// ConvNet's 8192→1024 layer at batch 32, with AVX-512.
func inputGradInPlace(n, k, m int) bool {
	return kern.Active() >= kern.AVX512 && n <= 64 && m*k >= 1<<20
}

// linearInputGrad computes the input gradient d [n, k] = g·w of a Linear
// (g [n, m], w [m, k]) as its transpose dᵀ = wᵀ·gᵀ, which reads the weight
// in place (kernel.SgemmTransA) instead of packing all of it, on every
// step, as the B operand of g·w. Each thread computes a stripe of dᵀ's
// rows (inputs) and transposes it into d while it is in cache. Every
// element is the same sum in the same order, so the bits are g·w's.
func linearInputGrad(g, w, d []float32, n, k, m int) {
	buf := linearScratch.Get().(*[]float32)
	defer linearScratch.Put(buf)
	if cap(*buf) < k*n {
		*buf = make([]float32, k*n)
	}
	dT := (*buf)[:k*n]
	const tile = 12 // the AVX-512 micro-tile's rows: stripes of whole tiles
	tiles := (k + tile - 1) / tile
	inChunks(tiles, func(_, from, to int) {
		r0, r1 := from*tile, min(to*tile, k)
		kern.SgemmTransA(r1-r0, n, m, w[r0:], k, true, g, m, dT[r0*n:], n, false)
		// In blocks of 16×16, through registers: 16 consecutive floats of
		// each row of d from 16 rows of dᵀ (a column of d at a time would
		// store to n rows k floats apart: for the ConvNet 32 KiB, which
		// fall into the same cache set).
		kern.Transpose(d[r0:], k, dT[r0*n:], n, r1-r0, n)
	})
}
