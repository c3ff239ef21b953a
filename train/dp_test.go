package train

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/privacy"
	"github.com/tapeml/tapeml/train/optim"
)

// plainMLP is mlp without dropout: chunked and whole-batch runs see the
// same function.
type plainMLP struct{}

func (plainMLP) Task() metrics.Task { return metrics.Binary }

func (plainMLP) Build(b *graph.Builder, n int) (graph.Outputs, error) {
	x := b.Input("x", n, 4)
	h := graph.ReLU(graph.Linear(b, "fc1", x, 8, true))
	logits := graph.Linear(b, "fc2", h, 1, true)
	return graph.Outputs{Inputs: []*G.Node{x}, Output: logits}, nil
}

func (plainMLP) Loss(b *graph.Builder, out graph.Outputs) (graph.Objective, error) {
	return graph.BinaryLoss(b, out)
}

func newModelTrainer(t *testing.T, m Model, cfg Config) *Trainer {
	t.Helper()
	tr, err := New(m, graph.NewParams(tensor.Float32, cfg.Defaults().Seed), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// startDP prepares tr for dpStep calls outside Fit.
func startDP(t *testing.T, tr *Trainer, n int) {
	t.Helper()
	if err := tr.schedule(stepsPerEpoch(n, tr.Config.Batch)); err != nil {
		t.Fatal(err)
	}
	if err := tr.prepareDP(n); err != nil {
		t.Fatal(err)
	}
}

func TestPoissonSample(t *testing.T) {
	const n, q, steps = 1000, 0.05, 400
	total := 0
	for s := int64(0); s < steps; s++ {
		a, b := poissonSample(n, q, 3, s), poissonSample(n, q, 3, s)
		if len(a) != len(b) {
			t.Fatal("not a pure function of (seed, step)")
		}
		for i := range a {
			if a[i] != b[i] || a[i] < 0 || a[i] >= n || (i > 0 && a[i] <= a[i-1]) {
				t.Fatalf("step %d: sample %v", s, a)
			}
		}
		total += len(a)
	}
	// Mean size q·n = 50 with standard error √(n·q·(1−q)/steps) ≈ 0.34.
	if mean := float64(total) / steps; math.Abs(mean-q*n) > 1.5 {
		t.Errorf("mean sample size %v, want %v", mean, q*n)
	}
	if got := poissonSample(7, 1, 1, 0); len(got) != 7 {
		t.Errorf("q = 1 sampled %v", got)
	}
}

func TestChunkPlan(t *testing.T) {
	sizes := map[int]bool{}
	for b := 0; b < 100; b++ {
		sum := 0
		real, size := chunkPlan(b, 16)
		for i, s := range size {
			if s%2 != 0 || s > 16 || real[i] > s || s-real[i] >= 2 {
				t.Fatalf("sample %d: chunk of %d real examples on %d rows", b, real[i], s)
			}
			sizes[s] = true
			sum += real[i]
		}
		if sum != b {
			t.Fatalf("chunks of %d sum to %d", b, sum)
		}
	}
	if len(sizes) != 8 {
		t.Errorf("machine sizes %v, want 8 of them", sizes)
	}
}

// With σ = 0 and C = ∞, DP-SGD is ordinary training on the same Poisson
// batches, the gradient averaged over the expected batch size, for every
// optimizer.
func TestDPWithoutNoiseOrClippingIsOrdinaryTraining(t *testing.T) {
	ds := blobs(200, 1)
	for _, opt := range []string{optim.SGD, optim.Adam, optim.AdamW, optim.RMSProp} {
		t.Run(opt, func(t *testing.T) {
			cfg := Config{Batch: 16, LR: 0.05, Seed: 5, Optimizer: optim.Config{Name: opt}}
			if opt == optim.SGD {
				cfg.Optimizer.Momentum = 0.9
			}
			ref := newModelTrainer(t, plainMLP{}, cfg)
			cfg.DP = &DPConfig{MaxGradNorm: math.Inf(1), Noise: 0, Delta: 1e-3, InsecureSeededNoise: true}
			dp := newModelTrainer(t, plainMLP{}, cfg)
			startDP(t, dp, ds.Len())
			if err := ref.schedule(stepsPerEpoch(ds.Len(), 16)); err != nil {
				t.Fatal(err)
			}
			q := 16.0 / 200
			for s := int64(0); s < 12; s++ {
				if _, _, err := dp.dpStep(ds, dp.accumulator()); err != nil {
					t.Fatal(err)
				}
				idx := poissonSample(ds.Len(), q, cfg.Seed, s)
				if len(idx) == 0 {
					t.Fatalf("step %d: empty sample", s)
				}
				b, err := ref.batch(ds, idx)
				if err != nil {
					t.Fatal(err)
				}
				m, err := ref.Program.Machine(len(idx), graph.Train)
				if err != nil {
					t.Fatal(err)
				}
				if err := m.Run(b.inputs, b.targets); err != nil {
					t.Fatal(err)
				}
				var ps []optim.Param
				for _, g := range m.Gradients() {
					v := append([]float32(nil), g.Grad.Float32s()...)
					for i := range v {
						v[i] *= float32(float64(len(idx)) / (q * 200))
					}
					ps = append(ps, optim.Param{Name: g.Param.Name, Shape: g.Param.Shape(), Value: g.Param.Value.Float32s(), Grad: v})
				}
				if err := ref.Opt.Step(ps, ref.Sched.LR(s)); err != nil {
					t.Fatal(err)
				}
			}
			a, b := weightsOf(ref), weightsOf(dp)
			for i := range a {
				if math.Abs(float64(a[i]-b[i])) > 2e-5*math.Max(1, math.Abs(float64(a[i]))) {
					t.Fatalf("weight %d: ordinary %v, DP %v", i, a[i], b[i])
				}
			}
		})
	}
}

// The noise added to the summed gradients has standard deviation σ·C:
// measured over many steps as the difference between σ > 0 and σ = 0 on the
// same samples, with plain SGD (lr 1) so the update is the gradient. The
// secure generator's samples differ between the two trainers, so it is
// measured with every example in every sample (batch = N).
func TestDPNoiseStd(t *testing.T) {
	for _, c := range []struct {
		name   string
		batch  int
		seeded bool
	}{{"seeded", 10, true}, {"crypto", 100, false}} {
		t.Run(c.name, func(t *testing.T) { testNoiseStd(t, c.batch, c.seeded) })
	}
}

func testNoiseStd(t *testing.T, batch int, seeded bool) {
	ds := blobs(100, 2)
	const sigma, c, steps = 1.3, 0.7, 300
	cfg := Config{Batch: batch, LR: 1, Seed: 9, Optimizer: optim.Config{Name: optim.SGD}}
	cfg.DP = &DPConfig{MaxGradNorm: c, Noise: sigma, Delta: 1e-3, InsecureSeededNoise: seeded}
	noisy := newModelTrainer(t, plainMLP{}, cfg)
	cfg.DP = &DPConfig{MaxGradNorm: c, Noise: 0, Delta: 1e-3, InsecureSeededNoise: seeded}
	clean := newModelTrainer(t, plainMLP{}, cfg)
	startDP(t, noisy, ds.Len())
	startDP(t, clean, ds.Len())
	init := weightsOf(clean)
	set := func(tr *Trainer, w []float32) {
		off := 0
		for _, p := range tr.Program.Params().List() {
			off += copy(p.Value.Float32s(), w[off:])
		}
	}
	var sum, sumSq float64
	var count int
	for s := int64(0); s < steps; s++ {
		for _, tr := range []*Trainer{noisy, clean} {
			set(tr, init)
			tr.Step = s
			if _, _, err := tr.dpStep(ds, tr.accumulator()); err != nil {
				t.Fatal(err)
			}
		}
		a, b := weightsOf(noisy), weightsOf(clean)
		for i := range a {
			z := float64(b[i]-a[i]) * float64(batch) // lr 1, divided by q·N = batch
			sum += z
			sumSq += z * z
			count++
		}
	}
	mean := sum / float64(count)
	std := math.Sqrt(sumSq/float64(count) - mean*mean)
	if math.Abs(std-sigma*c)/(sigma*c) > 0.02 || math.Abs(mean) > 0.05*sigma*c {
		t.Errorf("noise over %d coordinates: mean %v, std %v, want 0 and σC = %v within 2%%", count, mean, std, sigma*c)
	}
	t.Logf("noise over %d coordinates: mean %.4f, std %.4f (σC = %.4f)", count, mean, std, sigma*c)
}

// Clipping bounds every example's contribution: the norms the trainer saw
// last step, once clipped, are at most C.
func TestDPClippedNorms(t *testing.T) {
	ds := blobs(100, 3)
	cfg := Config{Batch: 20, LR: 0.1, Seed: 2, Optimizer: optim.Config{Name: optim.SGD}}
	cfg.DP = &DPConfig{MaxGradNorm: 0.05, Noise: 1, Delta: 1e-3}
	tr := newModelTrainer(t, plainMLP{}, cfg)
	startDP(t, tr, ds.Len())
	if _, _, err := tr.dpStep(ds, tr.accumulator()); err != nil {
		t.Fatal(err)
	}
	sq := tr.dp.lastNorms
	if len(sq) == 0 {
		t.Fatal("no per-example norms")
	}
	clipped := 0
	for i, c := range graph.ClipCoefficients(sq, 0.05) {
		n := math.Sqrt(sq[i]) * c
		if n > 0.05*(1+1e-12) {
			t.Errorf("example %d: clipped norm %v > C", i, n)
		}
		if c < 1 {
			clipped++
		}
	}
	if clipped == 0 {
		t.Error("C = 0.05 clipped no example: the test checks nothing")
	}
}

// In the insecure seeded mode a resumed run draws what the uninterrupted
// one drew, and ends with its weights, bit for bit.
func TestDPSeededResumeIsBitExact(t *testing.T) {
	trainSet, val := blobs(61, 1), blobs(20, 2)
	cfg := Config{Epochs: 2, Batch: 8, LR: 0.01, Optimizer: optim.Config{Name: optim.Adam}, Seed: 7,
		DP: &DPConfig{MaxGradNorm: 1, Noise: 1.1, Delta: 1e-3, InsecureSeededNoise: true}}
	straight := newTrainer(t, cfg) // mlp has dropout: its masks must resume too
	if err := straight.Fit(context.Background(), trainSet, val); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	firstCfg := cfg
	firstCfg.Epochs = 1
	first := newTrainer(t, firstCfg)
	first.Saver = &Saver{Dir: checkpoint.Dir{Root: root}, Info: RunInfo{Kind: "mlp"}}
	if err := first.Fit(context.Background(), trainSet, val); err != nil {
		t.Fatal(err)
	}
	dir, err := checkpoint.Resolve(root, checkpoint.PickLatest)
	if err != nil {
		t.Fatal(err)
	}
	c, err := checkpoint.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var p Privacy
	if err := json.Unmarshal(c.Meta.Privacy, &p); err != nil {
		t.Fatalf("meta privacy %s: %v", c.Meta.Privacy, err)
	}
	if p.Noise != 1.1 || p.MaxGradNorm != 1 || p.Delta != 1e-3 || p.Steps != 8 || math.Abs(p.SampleRate-8.0/61) > 1e-15 || !(p.Epsilon > 0) || p.NoiseRNG != NoiseSeeded {
		t.Errorf("meta privacy %+v", p)
	}
	saved, err := ConfigOf(c)
	if err != nil || saved.DP == nil || saved.DP.Noise != 1.1 || !saved.DP.InsecureSeededNoise {
		t.Fatalf("saved config %+v, %v", saved, err)
	}
	saved.Epochs = 2
	resumed := newTrainer(t, saved)
	if err := resumed.Resume(c); err != nil {
		t.Fatal(err)
	}
	if err := resumed.Fit(context.Background(), trainSet, val); err != nil {
		t.Fatal(err)
	}
	a, b := weightsOf(straight), weightsOf(resumed)
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("weight %d: straight %v, resumed %v", i, a[i], b[i])
		}
	}
	if _, ok := lookup(straight.History.Row(straight.History.Len()-1), "epsilon"); !ok {
		t.Errorf("history lacks epsilon: %v", straight.History.Columns())
	}
}

func TestDPBadInput(t *testing.T) {
	ds := blobs(100, 1)
	for _, c := range []struct {
		name string
		dp   DPConfig
		want string
	}{
		{"delta 1/N", DPConfig{MaxGradNorm: 1, Noise: 1, Delta: 0.01}, "below 1/N"},
		{"no C", DPConfig{Noise: 1, Delta: 1e-3}, "max grad norm"},
		{"negative noise", DPConfig{MaxGradNorm: 1, Noise: -1, Delta: 1e-3}, "noise multiplier"},
		{"unattainable", DPConfig{MaxGradNorm: 1, TargetEpsilon: 0.01, Delta: 1e-3}, "unattainable"},
	} {
		cfg := Config{Epochs: 1, Batch: 10, DP: &c.dp}
		tr := newModelTrainer(t, plainMLP{}, cfg)
		err := tr.Fit(context.Background(), ds, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	cfg := Config{Epochs: 1, Batch: 10, DP: &DPConfig{MaxGradNorm: 1, TargetEpsilon: 5, Delta: 1e-3}}
	tr := newModelTrainer(t, plainMLP{}, cfg)
	if err := tr.Fit(context.Background(), ds, nil); err != nil {
		t.Fatal(err)
	}
	p, _, _ := tr.Privacy(ds.Len())
	if !(p.Noise > 0) || p.Epsilon > 5 || p.Epsilon < 4.9 {
		t.Errorf("target epsilon 5: %+v", p)
	}
}

// The per-example losses DP reports average to the model's own batch loss.
func TestExampleLosses(t *testing.T) {
	ds := blobs(12, 4)
	tr := newModelTrainer(t, plainMLP{}, Config{Batch: 12})
	b, err := tr.batch(ds, sequence(12))
	if err != nil {
		t.Fatal(err)
	}
	m, err := tr.Program.Machine(12, graph.Eval)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Run(b.inputs, b.targets); err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, l := range exampleLosses(metrics.Binary, m.Output(), b.targets.Float32s(), 12) {
		sum += l
	}
	if math.Abs(sum/12-m.Loss()) > 1e-6 {
		t.Errorf("mean of per-example losses %v, batch loss %v", sum/12, m.Loss())
	}
}

// Without noise the spent epsilon is infinite, written as null.
func TestPrivacyJSONWithoutNoise(t *testing.T) {
	b, err := json.Marshal(Privacy{Noise: 0, MaxGradNorm: 1, SampleRate: 0.1, Steps: 3, Delta: 1e-5, Epsilon: math.Inf(1), Accountant: "rdp"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"epsilon":null`) || !strings.Contains(string(b), `"steps":3`) {
		t.Errorf("%s", b)
	}
}

// By default two DP runs with the same seed draw different samples and
// noise, and no file of their checkpoints — meta.json, the optimizer
// state, the history — nor the metadata an exported .safetensors carries
// holds the generator's key or anything else that regenerates the noise:
// replaying the seeded streams of the recorded seed does not give the
// run's weights. A resumed run draws with a fresh key and accounts for
// every step.
func TestDPNoiseIsSecure(t *testing.T) {
	var keys [][]byte
	defer func(f func([]byte)) { readKey = f }(readKey)
	readKey = func(k []byte) {
		crand.Read(k)
		keys = append(keys, bytes.Clone(k))
	}
	trainSet, val := blobs(61, 1), blobs(20, 2)
	cfg := Config{Epochs: 1, Batch: 8, LR: 0.01, Seed: 7, DP: &DPConfig{MaxGradNorm: 1, Noise: 1.1, Delta: 1e-3}}
	fit := func(cfg Config, root string) *Trainer {
		tr := newTrainer(t, cfg)
		tr.Saver = &Saver{Dir: checkpoint.Dir{Root: root}, Info: RunInfo{Kind: "mlp"}}
		if err := tr.Fit(context.Background(), trainSet, val); err != nil {
			t.Fatal(err)
		}
		return tr
	}
	roots := []string{t.TempDir(), t.TempDir()}
	a, b := weightsOf(fit(cfg, roots[0])), weightsOf(fit(cfg, roots[1]))
	if slices.Equal(a, b) {
		t.Fatal("two runs with the same seed drew the same samples and noise")
	}
	seeded := cfg
	seeded.DP = &DPConfig{MaxGradNorm: 1, Noise: 1.1, Delta: 1e-3, InsecureSeededNoise: true}
	if r := weightsOf(fit(seeded, t.TempDir())); slices.Equal(r, a) || slices.Equal(r, b) {
		t.Fatal("the seeded streams of the recorded seed regenerate the run")
	}
	if len(keys) != 2 || bytes.Equal(keys[0], keys[1]) {
		t.Fatalf("%d generator keys drawn, want 2 distinct ones", len(keys))
	}
	for i, root := range roots {
		dir, err := checkpoint.Resolve(root, checkpoint.PickLatest)
		if err != nil {
			t.Fatal(err)
		}
		c, err := checkpoint.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		var p Privacy
		if err := json.Unmarshal(c.Meta.Privacy, &p); err != nil || !p.Secure() {
			t.Errorf("run %d: privacy %s (%v), want noise_rng %q", i, c.Meta.Privacy, err, NoiseCrypto)
		}
		files := map[string][]byte{}
		err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			files[path] = b
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range checkpoint.Metadata(c) {
			files["exported metadata "+k] = []byte(v)
		}
		if len(files) < 5 {
			t.Fatalf("run %d: only %d files to check", i, len(files))
		}
		for name, content := range files {
			for _, key := range keys {
				// Byte-exact: lowering binary content would map every
				// invalid UTF-8 byte to U+FFFD and match any high-byte run
				// of a PNG. Hex is the one case-insensitive encoding.
				hexKey := hex.EncodeToString(key)
				for _, form := range [][]byte{key, key[:8], key[8:16], key[16:24], key[24:], []byte(hexKey), []byte(strings.ToUpper(hexKey)),
					[]byte(base64.StdEncoding.EncodeToString(key)), []byte(base64.RawURLEncoding.EncodeToString(key))} {
					if bytes.Contains(content, form) {
						t.Errorf("%s holds a generator key (%d bytes of it)", name, len(form))
					}
				}
			}
		}
	}

	// A resumed run draws with a fresh key and accounts for all its steps.
	c, err := checkpoint.Load(mustResolve(t, roots[0]))
	if err != nil {
		t.Fatal(err)
	}
	saved, err := ConfigOf(c)
	if err != nil {
		t.Fatal(err)
	}
	saved.Epochs = 2
	resumed := newTrainer(t, saved)
	if err := resumed.Resume(c); err != nil {
		t.Fatal(err)
	}
	if err := resumed.Fit(context.Background(), trainSet, val); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 {
		t.Errorf("the resumed run drew %d keys in all, want a third", len(keys))
	}
	p, _, err := resumed.Privacy(trainSet.Len())
	want, err2 := privacy.Compute(8.0/61, 1.1, 16, 1e-3, privacy.Balle)
	if err != nil || err2 != nil || p.Steps != 16 || p.Epsilon != want.Epsilon || !p.Secure() {
		t.Errorf("resumed: privacy %+v (%v), want 16 steps at ε %v (%v)", p, err, want.Epsilon, err2)
	}
}

// A run that took seeded steps stays marked seeded when it resumes with the
// secure generator (a checkpoint of a tapeml that seeded every DP run).
func TestDPSeededStepsStayMarked(t *testing.T) {
	trainSet := blobs(61, 1)
	root := t.TempDir()
	cfg := Config{Epochs: 1, Batch: 8, LR: 0.01, Seed: 7, DP: &DPConfig{MaxGradNorm: 1, Noise: 1.1, Delta: 1e-3, InsecureSeededNoise: true}}
	tr := newTrainer(t, cfg)
	tr.Saver = &Saver{Dir: checkpoint.Dir{Root: root}, Info: RunInfo{Kind: "mlp"}}
	if err := tr.Fit(context.Background(), trainSet, nil); err != nil {
		t.Fatal(err)
	}
	c, err := checkpoint.Load(mustResolve(t, root))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Epochs, cfg.DP.InsecureSeededNoise = 2, false
	resumed := newTrainer(t, cfg)
	if err := resumed.Resume(c); err != nil {
		t.Fatal(err)
	}
	if err := resumed.Fit(context.Background(), trainSet, nil); err != nil {
		t.Fatal(err)
	}
	if p, _, _ := resumed.Privacy(trainSet.Len()); p.NoiseRNG != NoiseSeeded {
		t.Errorf("privacy %+v, want noise_rng %q", p, NoiseSeeded)
	}
}

func mustResolve(t *testing.T, root string) string {
	t.Helper()
	dir, err := checkpoint.Resolve(root, checkpoint.PickLatest)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// A family's DP defaults fill the training settings the caller did not
// give, and keep those it gave.
func TestDPDefaultsApply(t *testing.T) {
	d := DPDefaults{Batch: 256, LR: 0.01, Optimizer: optim.Config{Name: optim.SGD, Momentum: 0.9}}
	tc := Config{Batch: 32, LR: 0.001, Optimizer: optim.Config{Name: optim.Adam}}
	changed := d.apply(&tc, map[Field]bool{})
	if tc.Batch != 256 || tc.LR != 0.01 || tc.Optimizer != d.Optimizer || len(changed) != 3 {
		t.Errorf("nothing given: %+v, changed %v", tc, changed)
	}
	tc = Config{Batch: 64, LR: 0.001, Optimizer: optim.Config{Name: optim.Adam, Momentum: 0.5}}
	changed = d.apply(&tc, map[Field]bool{"batch": true, "momentum": true})
	if tc.Batch != 64 || tc.LR != 0.01 || tc.Optimizer != (optim.Config{Name: optim.SGD, Momentum: 0.5}) || len(changed) != 2 {
		t.Errorf("batch and momentum given: %+v, changed %v", tc, changed)
	}
	tc = Config{Batch: 64, LR: 0.1, Optimizer: optim.Config{Name: optim.RMSProp}}
	if changed = d.apply(&tc, map[Field]bool{"batch": true, "lr": true, "optimizer": true}); len(changed) != 0 || tc.Optimizer.Name != optim.RMSProp {
		t.Errorf("all given: %+v, changed %v", tc, changed)
	}
	if changed = (DPDefaults{}).apply(&tc, map[Field]bool{}); len(changed) != 0 {
		t.Errorf("no defaults changed %v", changed)
	}
}

// Class weights scale each example's clipping coefficient by its class, so
// that its contribution stays at most C; a weight outside (0, 1] or a target
// outside the classes is an error.
func TestDPClassWeights(t *testing.T) {
	coef := []float64{1, 0.5, 0.25, 1}
	targets := []float32{0, 1, 1, 0, 1} // the fifth row is padding
	if err := classWeigh(coef, []float64{0.4, 1}, targets, 5); err != nil {
		t.Fatal(err)
	}
	if want := []float64{0.4, 0.5, 0.25, 0.4}; !slices.Equal(coef, want) {
		t.Errorf("coefficients %v, want %v", coef, want)
	}
	if err := classWeigh([]float64{1}, []float64{0.5, 1}, []float32{2}, 1); err == nil || !strings.Contains(err.Error(), "target is 2") {
		t.Errorf("target outside the classes: %v", err)
	}
	if err := classWeigh(coef, nil, targets, 5); err != nil || coef[0] != 0.4 {
		t.Errorf("no weights: %v, %v", err, coef)
	}
	for _, w := range []float64{0, 1.5, math.NaN()} {
		c := DPConfig{MaxGradNorm: 1, Noise: 1, Delta: 1e-5, ClassWeights: []float64{w, 1}}
		if err := c.validate(1000, 10); err == nil || !strings.Contains(err.Error(), "class_weights[0]") {
			t.Errorf("weight %v: %v", w, err)
		}
	}
}
