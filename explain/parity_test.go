package explain

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"strings"
	"sync"
	"testing"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/imagedata"
	"github.com/tapeml/tapeml/models/convnet"
	"github.com/tapeml/tapeml/models/textcnn"
)

// igGolden is testdata/explain/ig_golden.json, written by
// tools/pytorch/ig_golden.py with PyTorch autograd.
type igGolden struct {
	TextCNN struct {
		Config  textcnn.Config `json:"config"`
		IDs     [][]float32    `json:"ids"`
		Results []igCase       `json:"results"`
	} `json:"textcnn"`
	ConvNet struct {
		Config  convnet.Config `json:"config"`
		Mean    []float64      `json:"mean"`
		Std     []float64      `json:"std"`
		Targets []int          `json:"targets"`
		Pixels  []float32      `json:"pixels"`
		Results []igCase       `json:"results"`
	} `json:"convnet"`
}

type igCase struct {
	Quadrature string      `json:"quadrature"`
	Steps      int         `json:"steps"`
	Scores     [][]float64 `json:"scores"`
	FX         []float64   `json:"f_x"`
	FBaseline  []float64   `json:"f_baseline"`
	Delta      []float64   `json:"delta"`
}

// formulaParams fills every parameter as ig_golden.py's formula does.
func formulaParams(t *testing.T, build graph.BuildFunc) *graph.Params {
	t.Helper()
	ps := graph.NewParams(tensor.Float32, 1)
	if err := graph.Materialize(build, ps); err != nil {
		t.Fatal(err)
	}
	for k, p := range ps.List() {
		shape := p.Shape()
		fan := 1
		for _, d := range shape[min(1, len(shape)):] {
			fan *= d
		}
		vals := p.Value.Float32s()
		for i := range vals {
			h := (uint64(i)*2654435761 + uint64(k)*40503 + 12345) % (1 << 32)
			v := float64(int64(h%2001)-1000) / 1000
			var f float64
			switch name := p.Name; {
			case strings.HasSuffix(name, "num_batches_tracked"):
				f = 0
			case name == "embedding.weight":
				f = v
			case strings.HasSuffix(name, "running_mean"):
				f = 0.1 * v
			case strings.HasSuffix(name, "running_var"):
				f = 1 + 0.25*(v+1)
			case strings.HasSuffix(name, ".1.weight"):
				f = 1 + 0.2*v
			case len(shape) == 1:
				f = 0.1 * v
			default:
				f = 3 * v / math.Sqrt(float64(fan))
			}
			vals[i] = float32(f)
		}
	}
	return ps
}

// Integrated Gradients equals PyTorch autograd's on the same weights,
// baseline and quadrature within 1e-4, for both quadratures, at 50 and at
// 7 points (where the quadrature error is large, so a wrong node or
// weight cannot hide behind convergence).
func TestIntegratedGradientsParity(t *testing.T) {
	raw, err := os.ReadFile("../testdata/explain/ig_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g igGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const tol = 1e-4
	check := func(t *testing.T, c igCase, res []attrResult, scores func(i int, r attrResult) []float64) {
		t.Helper()
		worst := 0.0
		defer func() { t.Logf("%s %d points: worst |Go − PyTorch| %.2g", c.Quadrature, c.Steps, worst) }()
		for i, r := range res {
			for name, pair := range map[string][2]float64{"f(x)": {r.fx, c.FX[i]}, "f(baseline)": {r.fbase, c.FBaseline[i]}, "delta": {r.delta, c.Delta[i]}} {
				if math.Abs(pair[0]-pair[1]) > tol {
					t.Errorf("example %d: %s %v, PyTorch %v", i, name, pair[0], pair[1])
				}
			}
			got := scores(i, r)
			if len(got) != len(c.Scores[i]) {
				t.Fatalf("example %d: %d scores, PyTorch %d", i, len(got), len(c.Scores[i]))
			}
			for j, v := range got {
				worst = max(worst, math.Abs(v-c.Scores[i][j]))
				if math.Abs(v-c.Scores[i][j]) > tol {
					t.Errorf("example %d position %d: %v, PyTorch %v", i, j, v, c.Scores[i][j])
				}
			}
		}
	}

	t.Run("textcnn", func(t *testing.T) {
		tg := g.TextCNN
		net, err := textcnn.New(tg.Config)
		if err != nil {
			t.Fatal(err)
		}
		ps := formulaParams(t, net.Build)
		pool := newAttrPool(net.Build, ps, 32, &sync.Mutex{})
		table := ps.Get("embedding.weight").Value.Float32s()
		dim, L := tg.Config.EmbedDim, tg.Config.MaxLen
		exs := make([]attrExample, len(tg.IDs))
		for i, ids := range tg.IDs {
			x, base := make([]float32, L*dim), make([]float32, L*dim)
			for j, id := range ids {
				copy(x[j*dim:], table[int(id)*dim:int(id+1)*dim])
				copy(base[j*dim:], table[:dim])
			}
			exs[i] = attrExample{ids: ids, x: x, base: base, sel: []float32{1}}
		}
		for _, c := range tg.Results {
			res, err := pool.attribute(ctx, Options{Method: MethodIG, Steps: c.Steps, Quadrature: c.Quadrature}, exs)
			if err != nil {
				t.Fatal(err)
			}
			check(t, c, res, func(_ int, r attrResult) []float64 {
				s := make([]float64, L)
				for k, v := range r.attr {
					s[k/dim] += v
				}
				return s
			})
		}
	})

	t.Run("convnet", func(t *testing.T) {
		ig := g.ConvNet
		net, err := convnet.New(ig.Config)
		if err != nil {
			t.Fatal(err)
		}
		ps := formulaParams(t, net.Build)
		pool := newAttrPool(net.Build, ps, 32, &sync.Mutex{})
		c, h, w := ig.Config.Channels, ig.Config.Height, ig.Config.Width
		pipe, err := imagedata.NewPipeline(c, h, w, nil, ig.Mean, ig.Std)
		if err != nil {
			t.Fatal(err)
		}
		x := append([]float32(nil), ig.Pixels...)
		black := make([]float32, c*h*w)
		if err := pipe.NormalizeRaw(x); err != nil {
			t.Fatal(err)
		}
		if err := pipe.NormalizeRaw(black); err != nil {
			t.Fatal(err)
		}
		exs := make([]attrExample, len(ig.Targets))
		for i, target := range ig.Targets {
			sel := make([]float32, ig.Config.Classes)
			sel[target] = 1
			exs[i] = attrExample{x: x[i*c*h*w : (i+1)*c*h*w], base: black, sel: sel}
		}
		for _, cs := range ig.Results {
			res, err := pool.attribute(ctx, Options{Method: MethodIG, Steps: cs.Steps, Quadrature: cs.Quadrature}, exs)
			if err != nil {
				t.Fatal(err)
			}
			check(t, cs, res, func(_ int, r attrResult) []float64 {
				s := make([]float64, h*w)
				for k, v := range r.attr {
					s[k%(h*w)] += v
				}
				return s
			})
		}
	})
}

// Gauss–Legendre nodes and weights against closed forms.
func TestGaussLegendre(t *testing.T) {
	r := math.Sqrt(3.0 / 5)
	cases := []struct {
		n    int
		x, w []float64
	}{
		{1, []float64{0}, []float64{2}},
		{2, []float64{-1 / math.Sqrt(3), 1 / math.Sqrt(3)}, []float64{1, 1}},
		{3, []float64{-r, 0, r}, []float64{5.0 / 9, 8.0 / 9, 5.0 / 9}},
	}
	for _, c := range cases {
		a, wt := quadrature(QuadratureGauss, c.n) // on [0, 1]: back to [−1, 1]
		x, w := make([]float64, c.n), make([]float64, c.n)
		for i := range a {
			x[i], w[i] = 2*a[i]-1, 2*wt[i]
		}
		for i := range x {
			if math.Abs(x[i]-c.x[i]) > 1e-14 || math.Abs(w[i]-c.w[i]) > 1e-14 {
				t.Errorf("n=%d: node %d (%v, %v), want (%v, %v)", c.n, i, x[i], w[i], c.x[i], c.w[i])
			}
		}
	}
	// 50 points integrate x^99 exactly (degree ≤ 2n−1): ∫₀¹ = 1/100.
	a, wt := quadrature(QuadratureGauss, 50)
	s := 0.0
	for i := range a {
		s += wt[i] * math.Pow(a[i], 99)
	}
	if math.Abs(s-0.01) > 1e-13 {
		t.Errorf("50-point Gauss–Legendre ∫x^99 = %v, want 0.01", s)
	}
}
