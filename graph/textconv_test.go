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
