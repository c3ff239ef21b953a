package train

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/privacy"
	"github.com/tapeml/tapeml/train/optim"
)

// DPConfig turns on differentially private training (DP-SGD, Abadi et al.
// 2016) when set in Config.DP.
//
// Each step samples every training example independently with probability
// q = Batch/N (Poisson sampling: the batch size varies from step to step,
// and a step may even be empty). That is the sampling the RDP accountant
// (package privacy) assumes; shuffled fixed-size batches would not carry
// the reported guarantee. Each sampled example's gradient, over all
// trainable parameters together, is clipped to L2 norm MaxGradNorm (C);
// the clipped gradients are summed, Gaussian noise N(0, σ²C²) is added to
// every coordinate, and the result is divided by the expected batch size
// q·N — not the actual one, which would leak it. The optimizer (any of
// them) then steps with that gradient as usual.
//
// Sampling and noise are pure functions of (seed, step), so DP runs are
// seeded and resume bit-exactly. An epoch is ⌈N/Batch⌉ steps.
//
// The model must give per-example gradients (graph.CompileSamples): no
// BatchNorm (use GroupNorm), every parameter consumed by one layer op.
type DPConfig struct {
	// MaxGradNorm is C, the per-example clipping bound, > 0 (+Inf clips
	// nothing, for tests; it cannot be saved in a checkpoint).
	MaxGradNorm float64 `json:"max_grad_norm"`
	// Noise is the noise multiplier σ ≥ 0. When 0 and TargetEpsilon is
	// set, Fit sets it to the smallest σ that spends at most TargetEpsilon
	// over the configured epochs.
	Noise float64 `json:"noise_multiplier"`
	// TargetEpsilon, when > 0 and Noise is 0, picks Noise (see above).
	TargetEpsilon float64 `json:"target_epsilon,omitempty"`
	// Delta is the δ of the reported (ε, δ), in (0, 1/N); default 1e-5.
	Delta float64 `json:"delta"`
}

// Privacy is what a DP run spent, recorded in checkpoints (meta.json
// "privacy") and reported by eval.
type Privacy struct {
	Noise       float64 `json:"noise_multiplier"`
	MaxGradNorm float64 `json:"max_grad_norm"`
	SampleRate  float64 `json:"sample_rate"`
	Steps       int64   `json:"steps"`
	Delta       float64 `json:"delta"`
	Epsilon     float64 `json:"epsilon"`
	Accountant  string  `json:"accountant"` // "rdp", Opacus's conversion (privacy.Balle)
}

// validate checks the configuration for a training set of n examples and
// batch size batch.
func (c *DPConfig) validate(n, batch int) error {
	switch {
	case !(c.MaxGradNorm > 0):
		return fmt.Errorf("dp: max grad norm must be > 0, got %v", c.MaxGradNorm)
	case !(c.Noise >= 0) || math.IsInf(c.Noise, 0):
		return fmt.Errorf("dp: noise multiplier must be a finite number ≥ 0, got %v", c.Noise)
	case c.TargetEpsilon < 0 || math.IsNaN(c.TargetEpsilon) || math.IsInf(c.TargetEpsilon, 0):
		return fmt.Errorf("dp: target epsilon must be a finite number > 0, got %v", c.TargetEpsilon)
	case !(c.Delta > 0 && c.Delta < 1):
		return Fieldf("dp: %s must be in (0, 1), got %v", Field("delta"), c.Delta)
	case c.Delta >= 1/float64(n):
		return Fieldf("dp: %s %v must be below 1/N = %.3g for the %d training examples (a δ of 1/N allows leaking one example outright)", Field("delta"), c.Delta, 1/float64(n), n)
	case batch > n:
		return Fieldf("dp: %s %d exceeds the %d training examples: the sampling rate batch/N must be at most 1", Field("batch"), batch, n)
	}
	return nil
}

// sampleRate is q = batch/N.
func sampleRate(batch, n int) float64 { return float64(batch) / float64(n) }

// dpState is the trainer's DP machinery: per-example machines per chunk
// size and the gradient buffers.
type dpState struct {
	machines  map[int]*graph.SampleMachine
	sums      []*tensor.Dense // Σ clipped per-example gradients, per parameter
	chunk     []*tensor.Dense // one chunk's weighted sum
	params    []*graph.Param
	q         float64
	n         int       // training examples
	lastNorms []float64 // per-example gradient norms of the last step (tests)
}

// prepareDP validates the DP settings for a training set of n examples and
// resolves a target epsilon into a noise multiplier.
func (t *Trainer) prepareDP(n int) error {
	cp := *t.Config.DP // the caller's settings stay as given
	c := &cp
	t.Config.DP = c
	if c.Delta == 0 {
		c.Delta = 1e-5
	}
	if err := c.validate(n, t.Config.Batch); err != nil {
		return err
	}
	q := sampleRate(t.Config.Batch, n)
	if c.Noise == 0 && c.TargetEpsilon > 0 {
		steps := int(t.Config.Epochs) * stepsPerEpoch(n, t.Config.Batch)
		s, err := privacy.NoiseForEpsilon(c.TargetEpsilon, q, steps, c.Delta, privacy.Balle)
		if err != nil {
			return fmt.Errorf("dp: %w (train more noise-tolerant: fewer epochs, a smaller batch, or a larger target)", err)
		}
		c.Noise = s
	}
	if t.dp == nil || t.dp.q != q {
		t.dp = &dpState{machines: map[int]*graph.SampleMachine{}, q: q}
	}
	t.dp.n = n
	return nil
}

func stepsPerEpoch(n, batch int) int { return (n + batch - 1) / batch }

// Privacy returns what the run spent so far, for n training examples; ok
// is false when DP is off.
func (t *Trainer) Privacy(n int) (p Privacy, ok bool, err error) {
	c := t.Config.DP
	if c == nil {
		return Privacy{}, false, nil
	}
	q := sampleRate(t.Config.Batch, n)
	sp, err := privacy.Compute(q, c.Noise, int(t.Step), c.Delta, privacy.Balle)
	if err != nil {
		return Privacy{}, true, err
	}
	return Privacy{Noise: c.Noise, MaxGradNorm: c.MaxGradNorm, SampleRate: q, Steps: t.Step,
		Delta: c.Delta, Epsilon: sp.Epsilon, Accountant: "rdp"}, true, nil
}

// MarshalJSON writes an infinite ε (no noise) as null.
func (p Privacy) MarshalJSON() ([]byte, error) {
	type plain Privacy
	if math.IsInf(p.Epsilon, 1) {
		return json.Marshal(struct {
			plain
			Epsilon *float64 `json:"epsilon"`
		}{plain: plain(p)})
	}
	return json.Marshal(plain(p))
}

// poissonSample returns the examples of step's Poisson sample: each of n
// examples independently with probability q, a pure function of (seed,
// step). Gaps between chosen examples are geometric, so the cost is the
// sample's size, not n.
func poissonSample(n int, q float64, seed uint64, step int64) []int {
	rng := rand.New(rand.NewPCG(seed^0xd1ff5a3b1e5, uint64(step)))
	if q >= 1 {
		return sequence(n)
	}
	var out []int
	l := math.Log1p(-q)
	for i := -1; ; {
		u := 1 - rng.Float64() // (0, 1]
		i += 1 + int(math.Floor(math.Log(u)/l))
		if i >= n || i < 0 {
			return out
		}
		out = append(out, i)
	}
}

// noiseRNG is the generator of step's Gaussian noise.
func noiseRNG(seed uint64, step int64) *rand.Rand {
	return rand.New(rand.NewPCG(seed^0x6e015e5eed, uint64(step)))
}

// chunkPlan splits a sample of b examples into chunks of at most batch
// examples, each run on a machine of a size that is a multiple of
// ⌈batch/8⌉: real[i] examples padded to size[i] rows. The padding rows
// (copies of the chunk's first example) get clipping weight 0 and are left
// out of the metrics, so at most 8 compiled machines serve every sample
// size and at most ⌈batch/8⌉−1 rows per step are wasted.
func chunkPlan(b, batch int) (real, size []int) {
	g := (batch + 7) / 8
	for b > 0 {
		r := min(b, batch)
		real = append(real, r)
		size = append(size, min(batch, (r+g-1)/g*g))
		b -= r
	}
	return real, size
}

// exampleLosses returns each of the first n rows' loss from a batch's
// outputs and targets, as the model's loss computes it for the task
// (cross-entropy of logits, binary cross-entropy of a logit, squared
// error), without a model's extra penalty terms.
func exampleLosses(task metrics.Task, out *tensor.Dense, targets []float32, n int) []float64 {
	v := out.Float32s()
	w := len(v) / out.Shape()[0]
	tw := len(targets) / out.Shape()[0]
	ls := make([]float64, n)
	for i := range ls {
		row, tr := v[i*w:(i+1)*w], targets[i*tw:(i+1)*tw]
		switch task {
		case metrics.Multiclass:
			m := math.Inf(-1)
			for _, x := range row {
				m = math.Max(m, float64(x))
			}
			var s float64
			for _, x := range row {
				s += math.Exp(float64(x) - m)
			}
			ls[i] = m + math.Log(s) - float64(row[int(tr[0])])
		case metrics.Binary:
			for j, x := range row {
				xv, yv := float64(x), float64(tr[j])
				ls[i] += (math.Max(xv, 0) - xv*yv + math.Log1p(math.Exp(-math.Abs(xv)))) / float64(w)
			}
		default:
			for j, x := range row {
				d := float64(x) - float64(tr[j])
				ls[i] += d * d / float64(w)
			}
		}
	}
	return ls
}

// dpStep takes one DP-SGD step on step t.Step's Poisson sample of ds and
// adds the sampled examples' results to acc. It returns the sample's mean
// loss (NaN for an empty sample) and its size.
func (t *Trainer) dpStep(ds dataset.Dataset, acc *metrics.Accumulator) (float64, int, error) {
	c, st := t.Config.DP, t.dp
	idx := poissonSample(ds.Len(), st.q, t.Config.Seed, t.Step)
	var lossSum float64
	first := true
	from := 0
	reals, sizes := chunkPlan(len(idx), t.Config.Batch)
	for ci, size := range sizes {
		k := reals[ci]
		part := append([]int(nil), idx[from:from+k]...)
		for len(part) < size {
			part = append(part, part[0])
		}
		from += k
		sm, err := t.sampleMachine(size)
		if err != nil {
			return 0, 0, err
		}
		b, err := t.batch(ds, part)
		if err != nil {
			return 0, 0, err
		}
		// Dropout masks of (step, chunk): distinct for every chunk of a step.
		t.Program.Noise().Step = uint64(t.Step)<<10 | uint64(ci&1023)
		if err := sm.Run(b.inputs, b.targets); err != nil {
			return 0, 0, fmt.Errorf("training step %d: %w", t.Step, err)
		}
		m := sm.Machine()
		if loss := m.Loss(); math.IsNaN(loss) || math.IsInf(loss, 0) {
			return 0, 0, Fieldf("training step %d: the loss is %v (try a lower %s)", t.Step, loss, Field("lr"))
		}
		targets := b.targets.Float32s()
		var chunkLoss float64
		for _, l := range exampleLosses(t.Model.Task(), m.Output(), targets, k) {
			chunkLoss += l
		}
		lossSum += chunkLoss
		probs := probabilities(t.Model.Task(), m.Output())
		pw, tw := len(probs)/size, len(targets)/size
		if err := acc.Add(chunkLoss/float64(k), k, probs[:k*pw], targets[:k*tw]); err != nil {
			return 0, 0, err
		}
		sq := sm.SquaredNorms()
		coef := graph.ClipCoefficients(sq, c.MaxGradNorm)
		for i := k; i < size; i++ {
			coef[i] = 0 // padding
		}
		st.lastNorms = append(st.lastNorms[:0], sq[:k]...)
		target := st.sums
		if !first {
			target = st.chunk
		}
		if err := sm.WeightedSum(coef, target); err != nil {
			return 0, 0, err
		}
		if !first {
			for i, s := range st.sums {
				add32(s.Float32s(), st.chunk[i].Float32s())
			}
		}
		first = false
	}
	if len(st.sums) == 0 {
		// An empty first sample: build the buffers from a machine of one.
		if _, err := t.sampleMachine(1); err != nil {
			return 0, 0, err
		}
	}
	if first {
		for _, s := range st.sums {
			zero32(s.Float32s())
		}
	}
	// Noise N(0, σ²C²) on the sum, then the average over the expected batch.
	rng := noiseRNG(t.Config.Seed, t.Step)
	std := c.Noise * c.MaxGradNorm
	scale := 1 / (st.q * float64(ds.Len()))
	if len(t.optParams) != len(st.params) {
		t.optParams = make([]optim.Param, len(st.params))
	}
	for i, p := range st.params {
		g := st.sums[i].Float32s()
		for j, v := range g {
			x := float64(v)
			if std > 0 {
				x += std * rng.NormFloat64()
			}
			g[j] = float32(x * scale)
		}
		t.optParams[i] = optim.Param{Name: p.Name, Shape: p.Shape(), Value: p.Value.Float32s(), Grad: g}
	}
	if err := t.Opt.Step(t.optParams, t.Sched.LR(t.Step)); err != nil {
		return 0, 0, err
	}
	t.Step++
	if len(idx) == 0 {
		return math.NaN(), 0, nil
	}
	return lossSum / float64(len(idx)), len(idx), nil
}

// sampleMachine returns the per-example machine for chunks of n examples.
func (t *Trainer) sampleMachine(n int) (*graph.SampleMachine, error) {
	st := t.dp
	if sm, ok := st.machines[n]; ok {
		return sm, nil
	}
	sm, err := graph.CompileSamples(t.Model.Build, t.Model.Loss, t.Program.Params(), t.Program.Noise(), n)
	if err != nil {
		return nil, fmt.Errorf("dp: %w", err)
	}
	st.machines[n] = sm
	if st.sums == nil {
		st.params = sm.Params()
		for _, p := range st.params {
			st.sums = append(st.sums, tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(p.Shape()...)))
			st.chunk = append(st.chunk, tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(p.Shape()...)))
		}
	}
	return sm, nil
}

func add32(dst, src []float32) {
	for i, v := range src {
		dst[i] += v
	}
}

func zero32(v []float32) {
	clear(v)
}
