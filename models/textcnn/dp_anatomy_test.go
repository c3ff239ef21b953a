package textcnn

import (
	"flag"
	"fmt"
	"math"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/text"
	"github.com/tapeml/tapeml/textclass"
	"github.com/tapeml/tapeml/textdata"

	_ "github.com/tapeml/tapeml/samples" // builtin:spamassassin-sample
)

var dpAnatomy = flag.Bool("textcnn.dpanatomy", false, "print the per-layer anatomy of DP-SGD's clipped gradients on the built-in sample (TestDPGradientAnatomy)")

// TestDPGradientAnatomy measures, at initialization, what DP-SGD's clipping
// and noise do to each layer of a TextCNN on one expected batch (256) of the
// built-in sample: each layer's share of the per-example gradient norm, how
// sparse one example's gradient is, the norm of the summed clipped gradient
// against the noise's (σC·√D), and the share of coordinates whose summed
// clipped gradient exceeds the noise's std σC — the only coordinates where
// a per-coordinate optimizer (Adam) follows the data rather than the noise.
// It is the evidence behind the text family's DP defaults (README "Defaults
// under --dp"): go test -run DPGradientAnatomy -textcnn.dpanatomy -v ./models/textcnn
func TestDPGradientAnatomy(t *testing.T) {
	if !*dpAnatomy {
		t.Skip("measurement: run with -textcnn.dpanatomy")
	}
	const batch, sigma, clip = 256, 0.883, 1.0 // σ spending ε 8 over 3 epochs at q 0.16
	corpus, err := textdata.LoadText(textdata.BuiltinSample, textdata.TextOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	kimSmall := DefaultConfig()
	kimSmall.NumWords, kimSmall.EmbedDim, kimSmall.Dropout = 2000, 32, 0
	kimNoDrop := DefaultConfig()
	kimNoDrop.Dropout = 0
	for _, c := range []struct {
		name string
		cfg  Config
		pad  text.PadConfig
	}{
		{"kim (default)", DefaultConfig(), text.PadConfig{MaxLen: 200, Padding: "pre", Truncating: "post"}},
		{"kim, dropout 0", kimNoDrop, text.PadConfig{MaxLen: 200, Padding: "pre", Truncating: "post"}},
		{"kim, 2000 words, embed 32, dropout 0", kimSmall, text.PadConfig{MaxLen: 200, Padding: "pre", Truncating: "post"}},
		{"seed", SeedConfig(), text.PadConfig{MaxLen: 100, Padding: "pre", Truncating: "pre"}},
	} {
		pre, err := textclass.Fit(corpus, text.CleanOptions{}, text.TokenizerConfig{NumWords: c.cfg.NumWords, CJK: true}, c.pad, corpus.Positive)
		if err != nil {
			t.Fatal(err)
		}
		ds, err := textclass.Dataset(pre, corpus.Train)
		if err != nil {
			t.Fatal(err)
		}
		model, err := New(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		prog := graph.NewProgram(model.Build, model.Loss, graph.NewParams(tensor.Float32, 1), nil)
		sm, err := graph.CompileSamples(model.Build, model.Loss, prog.Params(), prog.Noise(), batch)
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]float32, batch*c.cfg.MaxLen)
		labels := make([]float32, batch)
		idx := make([]int, batch)
		for i := range idx {
			idx[i] = i * ds.Len() / batch
		}
		if err := ds.Gather(idx, [][]float32{ids}, labels); err != nil {
			t.Fatal(err)
		}
		x := tensor.New(tensor.WithShape(batch, c.cfg.MaxLen), tensor.WithBacking(ids))
		y := tensor.New(tensor.WithShape(batch), tensor.WithBacking(labels))
		if err := sm.Run([]*tensor.Dense{x}, y); err != nil {
			t.Fatal(err)
		}
		params := sm.Params()
		sums := make([][]float64, len(params))
		share := make([]float64, len(params))   // Σₙ ‖gₙ,layer‖²/‖gₙ‖²
		nonzero := make([]float64, len(params)) // Σₙ nonzero coordinates of gₙ,layer
		layerNorms := make([][]float64, len(params))
		var total []float64
		clipped := 0
		fc := slices.IndexFunc(params, func(p *graph.Param) bool { return p.Name == "fc.weight" })
		logits := sm.Machine().Output().Float32s()
		feats := make([][]float64, batch) // the head's input hₙ = ∂lossₙ/∂w_fc / (pₙ − yₙ)
		for n := range batch {
			g := sm.Example(n)
			p := 1 / (1 + math.Exp(-float64(logits[n])))
			feats[n] = make([]float64, len(g[fc]))
			for j, v := range g[fc] {
				feats[n][j] = v / (p - float64(labels[n]))
			}
			sq := make([]float64, len(g))
			var all float64
			for i, v := range g {
				for _, x := range v {
					sq[i] += x * x
					if x != 0 {
						nonzero[i]++
					}
				}
				all += sq[i]
				layerNorms[i] = append(layerNorms[i], math.Sqrt(sq[i]))
			}
			total = append(total, math.Sqrt(all))
			coef := min(1, clip/math.Sqrt(all))
			if coef < 1 {
				clipped++
			}
			for i, v := range g {
				share[i] += sq[i] / all
				if sums[i] == nil {
					sums[i] = make([]float64, len(v))
				}
				for j, x := range v {
					sums[i][j] += coef * x
				}
			}
		}
		// One step of DP-SGD without noise at lr 1: Δw = −Σ clipped/B, and
		// what it does to each class's mean logit (through the head's
		// weights and bias: the other layers' share is below the noise).
		var shift [2]float64
		var count [2]int
		bias := sums[len(sums)-1][0]
		for n, h := range feats {
			dz := -bias / batch
			for j, v := range h {
				dz -= sums[fc][j] / batch * v
			}
			shift[int(labels[n])] += dz
			count[int(labels[n])]++
		}
		t.Logf("%s: %d of %d examples clipped; one noiseless step at lr 1 moves the mean logit of ham by %+.3g and of spam by %+.3g",
			c.name, clipped, batch, shift[0]/float64(count[0]), shift[1]/float64(count[1]))
		slices.Sort(total)
		var dims int
		for _, p := range params {
			dims += p.Value.Shape().TotalSize()
		}
		t.Logf("%s: %d parameters; per-example gradient norm median %.3g (min %.3g, max %.3g); noise norm σC√D %.4g",
			c.name, dims, total[batch/2], total[0], total[batch-1], sigma*clip*math.Sqrt(float64(dims)))
		t.Logf("  %-18s %9s %8s %10s %9s %11s %11s %9s", "param", "D", "share", "median‖g‖", "nonzero", "‖Σclipped‖", "σC√D", "|Σ|>σC")
		for i, p := range params {
			d := len(sums[i])
			var s2 float64
			above := 0
			for _, v := range sums[i] {
				s2 += v * v
				if math.Abs(v) > sigma*clip {
					above++
				}
			}
			slices.Sort(layerNorms[i])
			t.Logf("  %-18s %9d %7.1f%% %10.3g %8.2f%% %11.3g %11.4g %8.3f%%", p.Name, d, 100*share[i]/batch,
				layerNorms[i][batch/2], 100*nonzero[i]/float64(batch*d), math.Sqrt(s2), sigma*clip*math.Sqrt(float64(d)), 100*float64(above)/float64(d))
		}
		fmt.Println()
	}
}

// TestDPFeatureCeiling measures what the Kim TextCNN can reach when only its
// classifier learns, as under DP-SGD at the default budget, where the
// convolutions' and embedding's summed clipped gradients are far below the
// noise (TestDPGradientAnatomy): a logistic regression, fitted without
// noise by full-batch gradient descent, on the max-pooled features of the
// initial embedding and convolutions, raw and centered on the training
// mean.
func TestDPFeatureCeiling(t *testing.T) {
	if !*dpAnatomy {
		t.Skip("measurement: run with -textcnn.dpanatomy")
	}
	corpus, err := textdata.LoadText(textdata.BuiltinSample, textdata.TextOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		edit func(*Config)
	}{
		{"kim (default)", func(*Config) {}},
		{"kim, 2000 words", func(c *Config) { c.NumWords = 2000 }},
		{"kim, 2000 words, embed 32", func(c *Config) { c.NumWords, c.EmbedDim = 2000, 32 }},
		{"kim, 300 filters", func(c *Config) { c.Filters = 300 }},
		{"kim, maxlen 100", func(c *Config) { c.MaxLen = 100 }},
	} {
		cfg := DefaultConfig()
		c.edit(&cfg)
		t.Log(c.name)
		featureCeiling(t, corpus, cfg)
	}
}

func featureCeiling(t *testing.T, corpus *textdata.TextCorpus, cfg Config) {
	pre, err := textclass.Fit(corpus, text.CleanOptions{}, text.TokenizerConfig{NumWords: cfg.NumWords, CJK: true},
		text.PadConfig{MaxLen: cfg.MaxLen, Padding: "pre", Truncating: "post"}, corpus.Positive)
	if err != nil {
		t.Fatal(err)
	}
	convs := []string{"convs.0", "convs.1", "convs.2"}
	build := func(b *graph.Builder, n int) (graph.Outputs, error) {
		ids := b.Input("ids", n, cfg.MaxLen)
		x := graph.EmbeddingConvMax(b, "embedding", convs, ids, cfg.NumWords, cfg.EmbedDim, cfg.Filters, cfg.Widths)
		return graph.Outputs{Inputs: []*G.Node{ids}, Output: x}, nil
	}
	prog := graph.NewProgram(build, nil, graph.NewParams(tensor.Float32, 1), nil)
	features := func(part []textdata.TextExample) ([][]float64, []float64) {
		ds, err := textclass.Dataset(pre, part)
		if err != nil {
			t.Fatal(err)
		}
		n := ds.Len()
		m, err := prog.Machine(n, graph.Infer)
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]float32, n*cfg.MaxLen)
		y32 := make([]float32, n)
		if err := ds.Gather(sequence(n), [][]float32{ids}, y32); err != nil {
			t.Fatal(err)
		}
		if err := m.Run([]*tensor.Dense{tensor.New(tensor.WithShape(n, cfg.MaxLen), tensor.WithBacking(ids))}, nil); err != nil {
			t.Fatal(err)
		}
		out := m.Output().Float32s()
		w := len(out) / n
		x := make([][]float64, n)
		y := make([]float64, n)
		for i := range x {
			x[i] = make([]float64, w)
			for j := range w {
				x[i][j] = float64(out[i*w+j])
			}
			y[i] = float64(y32[i])
		}
		return x, y
	}
	xtr, ytr := features(corpus.Train)
	xte, yte := features(corpus.Test)
	w := len(xtr[0])
	mean, sd := make([]float64, w), make([]float64, w)
	for _, r := range xtr {
		for j, v := range r {
			mean[j] += v / float64(len(xtr))
		}
	}
	var meanNorm, sdNorm float64
	for _, r := range xtr {
		for j, v := range r {
			sd[j] += (v - mean[j]) * (v - mean[j]) / float64(len(xtr))
		}
	}
	for j := range w {
		meanNorm += mean[j] * mean[j]
		sdNorm += sd[j]
	}
	t.Logf("features: %d; ‖training mean‖ %.3g, √(Σ variance) %.3g", w, math.Sqrt(meanNorm), math.Sqrt(sdNorm))
	for _, centered := range []bool{false, true} {
		prep := func(x [][]float64) [][]float64 {
			out := make([][]float64, len(x))
			for i, r := range x {
				out[i] = slices.Clone(r)
				if centered {
					for j := range out[i] {
						out[i][j] -= mean[j]
					}
				}
			}
			return out
		}
		a, b := prep(xtr), prep(xte)
		beta := make([]float64, w+1)
		for _, lr := range []float64{0.01, 0.1} {
			clear(beta)
			for range 3000 {
				grad := make([]float64, w+1)
				for i, r := range a {
					z := beta[w]
					for j, v := range r {
						z += beta[j] * v
					}
					d := 1/(1+math.Exp(-z)) - ytr[i]
					for j, v := range r {
						grad[j] += d * v / float64(len(a))
					}
					grad[w] += d / float64(len(a))
				}
				for j := range beta {
					beta[j] -= lr * grad[j]
				}
			}
			acc := func(x [][]float64, y []float64) float64 {
				right := 0
				for i, r := range x {
					z := beta[w]
					for j, v := range r {
						z += beta[j] * v
					}
					if (z > 0) == (y[i] == 1) {
						right++
					}
				}
				return float64(right) / float64(len(x))
			}
			t.Logf("centered %v, lr %g, 3000 full-batch steps: train accuracy %.3f, test accuracy %.3f", centered, lr, acc(a, ytr), acc(b, yte))
		}
	}
}

func sequence(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}
