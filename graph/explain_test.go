package graph_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/models/convnet"
	"github.com/tapeml/tapeml/models/lstm"
	"github.com/tapeml/tapeml/models/textcnn"
)

// TestAttributionGradients checks each model's attribution gradient (at
// the embedding output of the text models, at the pixels of the convnet)
// against central differences of the same machine's outputs, in float64.
func TestAttributionGradients(t *testing.T) {
	tc, _ := textcnn.New(textcnn.Config{NumWords: 20, EmbedDim: 4, Filters: 3, Kernel: 3, Pool: 2, MaxLen: 8})
	ls, _ := lstm.New(lstm.Config{NumWords: 20, EmbedDim: 4, Hidden: 3, Layers: 2, Bidirectional: true, MaxLen: 6})
	cn, _ := convnet.New(convnet.Config{Channels: 2, Height: 4, Width: 4, Classes: 3})
	cases := []struct {
		name  string
		build graph.BuildFunc
		text  bool
		ids   []float64 // per example
	}{
		{"textcnn", tc.Build, true, []float64{0, 0, 3, 7, 1, 19, 2, 5}},
		{"lstm", ls.Build, true, []float64{0, 0, 4, 9, 12, 3}},
		{"convnet", cn.Build, false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ps := graph.NewParams(tensor.Float64, 7)
			if err := graph.Materialize(c.build, ps); err != nil {
				t.Fatal(err)
			}
			const n = 2
			m, err := graph.CompileAttribution(c.build, ps, n)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			var x []float64
			if c.text {
				if m.Embedded() == nil {
					t.Fatal("no embedding stand-in in a text model")
				}
				ids := m.Inputs()[0].Float64s()
				for i := range ids {
					ids[i] = c.ids[i%len(c.ids)]
				}
				x = m.Embedded().Float64s()
			} else {
				if m.Embedded() != nil {
					t.Fatal("an embedding stand-in in an image model")
				}
				x = m.Inputs()[0].Float64s()
			}
			for i := range x {
				x[i] = rng.NormFloat64()
			}
			sel := m.Select().Float64s()
			for i := range sel {
				sel[i] = rng.Float64() - 0.5
			}
			target := func() float64 {
				if err := m.Run(); err != nil {
					t.Fatal(err)
				}
				s := 0.0
				for i, v := range m.Output().Float64s() {
					s += v * sel[i]
				}
				return s
			}
			target()
			grad := append([]float64(nil), m.Grad().Float64s()...)
			if len(grad) != len(x) {
				t.Fatalf("gradient has %d values, input %d", len(grad), len(x))
			}
			const eps = 1e-6
			worst := 0.0
			for i := range x {
				v := x[i]
				x[i] = v + eps
				hi := target()
				x[i] = v - eps
				lo := target()
				x[i] = v
				fd := (hi - lo) / (2 * eps)
				worst = max(worst, math.Abs(fd-grad[i])/max(1, math.Abs(fd)))
			}
			if worst > 1e-6 {
				t.Errorf("worst relative gradient error %.3g", worst)
			}
		})
	}
}

// TestAttributionRowsIndependent: row i's gradient depends on row i only,
// so a batch of interpolation points is one run.
func TestAttributionRowsIndependent(t *testing.T) {
	cn, _ := convnet.New(convnet.Config{Channels: 1, Height: 4, Width: 4, Classes: 2})
	ps := graph.NewParams(tensor.Float64, 3)
	if err := graph.Materialize(cn.Build, ps); err != nil {
		t.Fatal(err)
	}
	m, err := graph.CompileAttribution(cn.Build, ps, 2)
	if err != nil {
		t.Fatal(err)
	}
	x := m.Inputs()[0].Float64s()
	for i := range x {
		x[i] = float64(i%5) / 5
	}
	sel := m.Select().Float64s()
	sel[0], sel[1], sel[2], sel[3] = 1, 0, 0, 1
	if err := m.Run(); err != nil {
		t.Fatal(err)
	}
	first := append([]float64(nil), m.Grad().Float64s()[:16]...)
	for i := 16; i < 32; i++ {
		x[i] = -x[i] + 3
	}
	if err := m.Run(); err != nil {
		t.Fatal(err)
	}
	for i, v := range m.Grad().Float64s()[:16] {
		if v != first[i] {
			t.Fatalf("row 0's gradient changed with row 1's input at %d: %v vs %v", i, v, first[i])
		}
	}
}
