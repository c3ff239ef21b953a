package graph

import (
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// kimNet runs EmbeddingConvMax in mode on texts padded before, after, not
// at all, and empty.
func kimNet(t *testing.T, ps *Params, mode Mode, ids []float32) []float32 {
	t.Helper()
	b := NewBuilder(ps, mode, nil)
	n := len(ids) / 9
	idNode := G.NewTensor(b.G, tensor.Float32, 2, G.WithShape(n, 9), G.WithName("ids"), G.WithValue(tensor.New(tensor.WithShape(n, 9), tensor.WithBacking(slices.Clone(ids)))))
	out := EmbeddingConvMax(b, "embedding", []string{"convs.0", "convs.1", "convs.2"}, idNode, 30, 5, 4, []int{1, 3, 5})
	if err := G.NewTapeMachine(b.G).RunAll(); err != nil {
		t.Fatal(err)
	}
	return slices.Clone(out.Value().(*tensor.Dense).Float32s())
}

// TestEmbeddingConvMaxServing: the serving kernel (token table, and the
// product path it takes while calibrating) gives the training layers'
// features, and a text's features do not depend on its padding.
func TestEmbeddingConvMaxServing(t *testing.T) {
	if !kern.Packed() {
		t.Skip("the fused serving kernel runs on the SIMD path")
	}
	text := []float32{4, 17, 2, 29, 8}
	var ids []float32
	for _, pad := range []struct{ before, after int }{{4, 0}, {0, 4}, {2, 2}} {
		ids = append(ids, make([]float32, pad.before)...)
		ids = append(ids, text...)
		ids = append(ids, make([]float32, pad.after)...)
	}
	ids = append(ids, make([]float32, 9)...) // empty
	rng := rand.New(rand.NewPCG(1, 2))
	for range 9 {
		ids = append(ids, float32(1+rng.IntN(29))) // full
	}
	ps := NewParams(tensor.Float32, 4)
	ref := kimNet(t, ps, Eval, ids)
	const f = 12 // features per text
	for r := 1; r < 3; r++ {
		for j := 0; j < f; j++ {
			if math.Abs(float64(ref[r*f+j]-ref[j])) > 1e-5 {
				t.Fatalf("feature %d of the text padded as %d differs from the pre-padded one's: %v vs %v", j, r, ref[r*f+j], ref[j])
			}
		}
	}
	for j := 0; j < f; j++ {
		if ref[3*f+j] != 0 {
			t.Fatalf("an empty text has feature %d = %v, want 0", j, ref[3*f+j])
		}
	}
	check := func(what string, got []float32) {
		t.Helper()
		for i := range ref {
			if math.Abs(float64(got[i]-ref[i])) > 1e-4*max(1, math.Abs(float64(ref[i]))) {
				t.Fatalf("%s: feature %d = %v, the training layers give %v", what, i, got[i], ref[i])
			}
		}
	}
	check("token table", kimNet(t, ps, Infer, ids))
	ps.Calibrate()
	check("product", kimNet(t, ps, Infer, ids))
}

// Calibration records the same input ranges whichever kernel path serves:
// the unfused layers of the pure-Go path (TAPEML_SIMD=generic, purego)
// record the embedding table's range as the fused kernels do.
func TestCalibrationWithoutPackedKernels(t *testing.T) {
	ids := []float32{4, 17, 2, 29, 8, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	ranges := func() map[string]float64 {
		ps := NewParams(tensor.Float32, 4)
		kimNet(t, ps, Eval, ids) // creates the parameters
		ps.Calibrate()
		kimNet(t, ps, Infer, ids)
		return ps.Calibration()
	}
	restore := kern.Set(kern.Generic)
	generic := ranges()
	restore()
	for _, name := range []string{"convs.0.weight", "convs.1.weight", "convs.2.weight", "embedding.weight"} {
		if !(generic[name] > 0) {
			t.Fatalf("generic path: no range for %s (%v)", name, generic)
		}
	}
	if kern.Packed() {
		if simd := ranges(); !maps.Equal(simd, generic) {
			t.Errorf("ranges differ between paths: SIMD %v, generic %v", simd, generic)
		}
	}
}

// TestEmbeddingConvMaxKernelSizes: the float32 serving kernel of one
// width, by its token table and by its packed product, against a float64
// reference of the full convolution pooled over the windows that touch a
// token, on lengths, channels, embedding sizes and widths from the kernel
// tests' sizes list, with guards around its output.
func TestEmbeddingConvMaxKernelSizes(t *testing.T) {
	const gl = 16
	const guard = float32(-1234.5678)
	const vocab = 7
	rng := rand.New(rand.NewPCG(71, 72))
	for _, l := range []int{1, 2, 3, 9, 17} {
		for _, o := range []int{1, 3, 8, 16, 17, 33} {
			for _, e := range []int{1, 5, 16, 17} {
				for _, kw := range []int{1, 2, 3, 5} {
					const n = 3
					ids := make([]float32, n*l)
					for i := range ids {
						if rng.IntN(3) > 0 { // a third padding, anywhere
							ids[i] = float32(1 + rng.IntN(vocab-1))
						}
					}
					copy(ids[(n-1)*l:], make([]float32, l)) // one text all padding
					emb := randn32(rng, vocab*e)
					clear(emb[:e]) // the padding row, zero as Embedding keeps it
					w, bias := randn32(rng, o*e*kw), randn32(rng, o)
					want := make([]float64, n*o)
					for ex := range n {
						row := ids[ex*l : (ex+1)*l]
						any := false
						for t0 := 0; t0 < l+kw-1; t0++ {
							touches := false
							for j := range kw {
								if s := t0 - kw + 1 + j; s >= 0 && s < l && row[s] != 0 {
									touches = true
								}
							}
							if !touches {
								continue
							}
							for oc := range o {
								c := float64(bias[oc])
								for j := range kw {
									s := t0 - kw + 1 + j
									if s < 0 || s >= l {
										continue
									}
									for ec := range e {
										c += float64(w[(oc*e+ec)*kw+j]) * float64(emb[int(row[s])*e+ec])
									}
								}
								if !any || c > want[ex*o+oc] {
									want[ex*o+oc] = c
								}
							}
							any = true
						}
						for oc := range o {
							want[ex*o+oc] = max(want[ex*o+oc], 0)
						}
					}
					paths := []string{"token table"}
					if kern.Packed() {
						paths = append(paths, "product")
					}
					for _, path := range paths {
						k := &embedConvMaxKernel{embedConvPoolKernel: embedConvPoolKernel{packed: &packedWeights{}}}
						if path == "token table" {
							k.table = &tokenTable{}
						}
						all := make([]float32, n*o+2*gl)
						for i := range all {
							all[i] = guard
						}
						out := tensor.New(tensor.WithShape(n, o), tensor.WithBacking(all[gl:gl+n*o]))
						in := []*tensor.Dense{
							tensor.New(tensor.WithShape(n, l), tensor.WithBacking(ids)),
							tensor.New(tensor.WithShape(vocab, e), tensor.WithBacking(emb)),
							tensor.New(tensor.WithShape(o, e, kw), tensor.WithBacking(w)),
							tensor.New(tensor.WithShape(o), tensor.WithBacking(bias)),
						}
						if err := k.forward(in, out); err != nil {
							t.Fatal(err)
						}
						for i, g := range all {
							if c := i - gl; c >= 0 && c < n*o {
								if d := math.Abs(float64(g) - want[c]); d > 1e-4*max(1, math.Abs(want[c])) {
									t.Fatalf("%s, L %d, O %d, E %d, K %d: y[%d] = %v, want %v", path, l, o, e, kw, c, g, want[c])
								}
							} else if g != guard {
								t.Fatalf("%s, L %d, O %d, E %d, K %d: wrote %v into the guard at %d", path, l, o, e, kw, g, c)
							}
						}
					}
				}
			}
		}
	}
}
