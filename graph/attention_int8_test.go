package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// attnInt8Case is one attention of TestAttentionInt8Kernel: batch, steps,
// width, heads, the input projection's parts (1 packed, 3 separate) and
// each example's real tokens (the rest padding; 0: none).
type attnInt8Case struct {
	n, t, d, heads, parts int
	lengths               []int
}

// TestAttentionInt8Kernel runs the int8 attention kernel — at every SIMD
// level and with every int8 arch — on widths and steps from the kernel
// tests' sizes list (one of everything; widths around the 16- and
// 32-column tiles and vector widths; one head and many), packed and
// separate input projections, padding, an example without real tokens,
// and checks each stage against a float64 reference of the same integers:
// the projection qkv = Σ qx·qw·sx_i·sw_j + b_j from the kernel's own
// quantization of x, the float32 core (scores, masked softmax, P·V) on
// that qkv, and the output projection from the quantization of the
// kernel's context; with guards after qkv and y (the assembly kernels
// write through slices whose capacity runs into them). At each level every
// arch's output equals the generic one's bit for bit, and the whole is within
// quantization error of the float64 attention with unquantized weights.
func TestAttentionInt8Kernel(t *testing.T) {
	const gl = 16
	const guard = float32(-1234.5678)
	cases := []attnInt8Case{
		{1, 1, 1, 1, 1, []int{1}},
		{1, 1, 1, 1, 3, []int{1}},
		{2, 3, 4, 2, 3, []int{3, 1}},
		{3, 5, 8, 2, 1, []int{5, 2, 0}},
		{2, 17, 16, 4, 3, []int{17, 9}},
		{2, 9, 33, 3, 1, []int{4, 9}},
		{1, 33, 32, 1, 3, []int{20}},
		{3, 7, 65, 5, 3, []int{7, 0, 3}},
		{2, 8, 96, 3, 1, []int{8, 5}},
	}
	rng := rand.New(rand.NewPCG(26, 8))
	for _, c := range cases {
		n, tt, d, parts := c.n, c.t, c.d, c.parts
		rows := n * tt
		x := randn32(rng, rows*d)
		mask := make([]float32, rows)
		for i, v := range maskOf(c.lengths, tt) {
			mask[i] = float32(v)
		}
		pd := 3 * d / parts
		var ws, bs [][]float32
		var qs []*QuantWeight
		for range parts {
			w := randn32(rng, pd*d)
			for i := range w { // unit-variance projections, as initialized ones: sharp random softmaxes would magnify the rounding
				w[i] /= float32(math.Sqrt(float64(d)))
			}
			ws, bs = append(ws, w), append(bs, randn32(rng, pd))
			qs = append(qs, QuantizeRows(w, []int{pd, d}))
		}
		wo, bo := randn32(rng, d*d), randn32(rng, d)
		qo := QuantizeRows(wo, []int{d, d})
		in, err := concatRows(qs)
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := concatRows(qs); again != in {
			t.Fatalf("%+v: the concatenated input projection is made again", c)
		}
		tensors := []*tensor.Dense{dense32(x, n, tt, d), dense32(mask, n, tt)}
		for i := range parts {
			tensors = append(tensors, dense32(ws[i], pd, d), dense32(bs[i], pd))
		}
		tensors = append(tensors, dense32(wo, d, d), dense32(bo, d))
		ref := attentionRef64(c, x, mask, ws, bs, wo, bo)

		for l := kern.Generic; l <= kern.Supported(); l++ {
			restoreLevel := kern.Set(l)
			var generic []float32 // the float32 core's vector kernels differ by level
			for _, arch := range kern.QArches() {
				restoreArch := kern.SetQGemmArch(arch)
				name := fmt.Sprintf("%+v %s %s", c, l, arch.Name())
				k := &attentionKernel[float32]{heads: c.heads, parts: parts, masked: true, int8: &attnInt8{in: in, out: qo}}
				shapes := make([]tensor.Shape, len(tensors))
				for i, v := range tensors {
					shapes[i] = v.Shape()
				}
				if _, err := k.outShape(shapes); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				qkvAll := guarded(rows*3*d, gl, guard)
				k.qkv = qkvAll[gl : gl+rows*3*d]
				yAll := guarded(rows*d, gl, guard)
				y := yAll[gl : gl+rows*d]
				if err := k.forward(tensors, dense32(y, n, tt, d)); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				restoreArch()
				for _, g := range [][]float32{qkvAll[:gl], qkvAll[gl+rows*3*d:], yAll[:gl], yAll[gl+rows*d:]} {
					for _, v := range g {
						if math.Float32bits(v) != math.Float32bits(guard) {
							t.Fatalf("%s: wrote %v into a guard", name, v)
						}
					}
				}
				// The input projection from the same integers.
				qx, sx := make([]int8, rows*d), make([]float32, rows)
				quantizeRowsDynamic(x, rows, d, d, qx, sx)
				bias := slices.Concat(bs...)
				for r := range rows {
					for j := range 3 * d {
						prod := intDot(qx[r*d:(r+1)*d], in.Q[j*d:(j+1)*d]) * float64(sx[r]) * float64(in.Scale[j])
						want := prod + float64(bias[j])
						if g := k.qkv[r*3*d+j]; math.Abs(float64(g)-want) > 1e-6*(math.Abs(prod)+math.Abs(float64(bias[j])))+1e-30 {
							t.Fatalf("%s: qkv[%d][%d] = %v, want %v", name, r, j, g, want)
						}
					}
				}
				// The float32 core on the kernel's qkv.
				ctx := attentionCore64(c, k.qkv, mask)
				for i, want := range ctx {
					if g := k.ctx[i]; math.Abs(float64(g)-want) > 1e-5*(1+math.Abs(want)) {
						t.Fatalf("%s: ctx %d = %v, want %v", name, i, g, want)
					}
				}
				// The output projection from the kernel's context.
				qc, sc := make([]int8, rows*d), make([]float32, rows)
				quantizeRowsDynamic(k.ctx, rows, d, d, qc, sc)
				var yMax float64
				for r := range rows {
					for j := range d {
						prod := intDot(qc[r*d:(r+1)*d], qo.Q[j*d:(j+1)*d]) * float64(sc[r]) * float64(qo.Scale[j])
						want := prod + float64(bo[j])
						if g := y[r*d+j]; math.Abs(float64(g)-want) > 1e-6*(math.Abs(prod)+math.Abs(float64(bo[j])))+1e-30 {
							t.Fatalf("%s: y[%d][%d] = %v, want %v", name, r, j, g, want)
						}
						yMax = max(yMax, math.Abs(ref[r*d+j]))
					}
				}
				// Within quantization error of the unquantized attention.
				for i, want := range ref {
					if diff := math.Abs(float64(y[i]) - want); diff > 0.03*yMax {
						t.Fatalf("%s: y %d = %v, float64 attention %v (|Δ| %.3g > 3%% of %.3g)", name, i, y[i], want, diff, yMax)
					}
				}
				if generic == nil {
					generic = slices.Clone(y)
				} else if !slices.Equal(y, generic) {
					t.Fatalf("%s: output differs from the generic int8 path's", name)
				}
			}
			restoreLevel()
		}
	}
}

// TestAttentionInt8Graph checks that a float32 serving graph runs the
// attention's projections in int8 exactly when their weights have int8
// forms — the input projection only when all its parts have — and that
// int8 weights of the wrong shape are refused when the graph is built.
func TestAttentionInt8Graph(t *testing.T) {
	const n, tt, d = 2, 5, 8
	rng := rand.New(rand.NewPCG(3, 4))
	x := randn32(rng, n*tt*d)
	mask := []float32{1, 1, 1, 1, 1, 1, 1, 0, 0, 0}
	cfg := AttentionConfig{Heads: 2, Query: "q", Key: "k", Value: "v", Out: "o"}
	build := func(ps *Params, mode Mode) (*G.Node, error) {
		b := NewBuilder(ps, mode, nil)
		xn := G.NewTensor(b.G, tensor.Float32, 3, G.WithShape(n, tt, d), G.WithName("x"), G.WithValue(dense32(slices.Clone(x), n, tt, d)))
		mn := G.NewTensor(b.G, tensor.Float32, 2, G.WithShape(n, tt), G.WithName("mask"), G.WithValue(dense32(slices.Clone(mask), n, tt)))
		var y *G.Node
		err := func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("%v", r)
				}
			}()
			y = SelfAttention(b, xn, mn, cfg)
			return nil
		}()
		if err != nil {
			return nil, err
		}
		return y, G.NewTapeMachine(b.G).RunAll()
	}
	ps := NewParams(tensor.Float32, 7)
	ref, err := build(ps, Eval)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"q.weight", "k.weight", "v.weight", "o.weight"} {
		if p := ps.Get(name); p.Role != RoleLinear {
			t.Fatalf("%s has role %v, want linear", name, p.Role)
		}
	}
	for _, c := range []struct {
		quantized []string
		want      string // the kernel's name, or a part of the error
		in, out   bool   // int8 projections
	}{
		{nil, "SelfAttention(heads=2", false, false},
		{[]string{"q.weight", "k.weight", "v.weight", "o.weight"}, "SelfAttention(int8", true, true},
		{[]string{"q.weight", "k.weight", "v.weight"}, "SelfAttention(int8", true, false},
		{[]string{"o.weight"}, "SelfAttention(int8", false, true},
		{[]string{"q.weight", "v.weight"}, "SelfAttention(heads=2", false, false},
		{[]string{"q.weight", "k.weight", "v.weight", "o.weight", "bad o"}, "output projection: int8 weight [4 16], expected [8, 8]", false, false},
		{[]string{"q.weight", "k.weight", "v.weight", "bad k"}, "part 1: int8 weight [8 4 2]", false, false},
	} {
		qs := NewParams(tensor.Float32, 7)
		if _, err := build(qs, Eval); err != nil {
			t.Fatal(err)
		}
		for _, name := range c.quantized {
			p := ps.Get(name)
			switch name {
			case "bad o":
				qs.SetQuantized("o.weight", QuantizeRows(ps.Get("o.weight").Value.Float32s(), []int{4, 16}))
				continue
			case "bad k":
				qs.SetQuantized("k.weight", QuantizeRows(ps.Get("k.weight").Value.Float32s(), []int{8, 4, 2}))
				continue
			}
			q := QuantizeRows(p.Value.Float32s(), p.Shape())
			q.Dequantize(qs.Get(name).Value.Float32s()) // as an int8 checkpoint loads
			qs.SetQuantized(name, q)
		}
		y, err := build(qs, Infer)
		if err != nil {
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("%v: %v, want an error with %q", c.quantized, err, c.want)
			}
			continue
		}
		k := y.Op().(*kernelOp).k
		if got := k.name(); !strings.Contains(got, c.want) {
			t.Errorf("%v: kernel %s, want %s", c.quantized, got, c.want)
		}
		if a, ok := k.(*attentionKernel[float32]); ok && a.int8 != nil && ((a.int8.in != nil) != c.in || (a.int8.out != nil) != c.out) {
			t.Errorf("%v: int8 input projection %v, output %v; want %v, %v", c.quantized, a.int8.in != nil, a.int8.out != nil, c.in, c.out)
		}
		got, want := y.Value().Data().([]float32), ref.Value().Data().([]float32)
		var m float64
		for _, v := range want {
			m = max(m, math.Abs(float64(v)))
		}
		for i := range got {
			if diff := math.Abs(float64(got[i] - want[i])); diff > 0.03*m {
				t.Fatalf("%v: output %d = %v, float32 %v", c.quantized, i, got[i], want[i])
			}
		}
	}
}

func dense32(v []float32, shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
}

// guarded is n values between gl guards on either side.
func guarded(n, gl int, guard float32) []float32 {
	all := make([]float32, n+2*gl)
	for i := range all {
		all[i] = guard
	}
	return all
}

func intDot(a, b []int8) float64 {
	var acc int64
	for i := range a {
		acc += int64(a[i]) * int64(b[i])
	}
	return float64(acc)
}

// attentionCore64 is the attention's ctx [N·T, D] in float64 from qkv
// [N·T, 3D]: per example and head, softmax(Q·Kᵀ/√dh over the real keys)·V,
// uniform over all keys for an example without real ones.
func attentionCore64(c attnInt8Case, qkv, mask []float32) []float64 {
	n, tt, d, h := c.n, c.t, c.d, c.heads
	dh := d / h
	ctx := make([]float64, n*tt*d)
	for e := range n {
		real := 0
		for _, m := range mask[e*tt : (e+1)*tt] {
			real += int(m)
		}
		for hd := range h {
			for i := range tt {
				row := qkv[(e*tt+i)*3*d:]
				p := make([]float64, tt)
				var best, sum float64 = math.Inf(-1), 0
				for j := range tt {
					if real > 0 && mask[e*tt+j] == 0 {
						continue
					}
					col := qkv[(e*tt+j)*3*d:]
					var s float64
					for u := range dh {
						s += float64(row[hd*dh+u]) * float64(col[d+hd*dh+u])
					}
					p[j] = s / math.Sqrt(float64(dh))
					best = max(best, p[j])
				}
				for j := range tt {
					switch {
					case real == 0:
						p[j] = 1
					case mask[e*tt+j] == 0:
						p[j] = 0
					default:
						p[j] = math.Exp(p[j] - best)
					}
					sum += p[j]
				}
				for u := range dh {
					var v float64
					for j := range tt {
						v += p[j] / sum * float64(qkv[(e*tt+j)*3*d+2*d+hd*dh+u])
					}
					ctx[(e*tt+i)*d+hd*dh+u] = v
				}
			}
		}
	}
	return ctx
}

// attentionRef64 is the attention in float64 with unquantized weights.
func attentionRef64(c attnInt8Case, x, mask []float32, ws, bs [][]float32, wo, bo []float32) []float64 {
	rows, d := c.n*c.t, c.d
	w, b := slices.Concat(ws...), slices.Concat(bs...)
	qkv := make([]float32, rows*3*d) // float64 sums, kept in float32 for attentionCore64
	for r := range rows {
		for j := range 3 * d {
			s := float64(b[j])
			for u := range d {
				s += float64(x[r*d+u]) * float64(w[j*d+u])
			}
			qkv[r*3*d+j] = float32(s)
		}
	}
	ctx := attentionCore64(c, qkv, mask)
	y := make([]float64, rows*d)
	for r := range rows {
		for j := range d {
			s := float64(bo[j])
			for u := range d {
				s += ctx[r*d+u] * float64(wo[j*d+u])
			}
			y[r*d+j] = s
		}
	}
	return y
}
