package train

import (
	crand "crypto/rand"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/internal/par"
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
// Sampling and noise come from a cryptographically secure generator,
// ChaCha8 keyed from crypto/rand when training starts or resumes; the key
// is never written anywhere, so whoever holds the checkpoint cannot
// regenerate the noise and subtract it. Each coordinate's noise is the sum
// of four draws, halved (as Opacus's secure_mode does, after Holohan and
// Braghin 2021), so its low-order bits do not betray the unnoised value.
// A resumed run continues with fresh randomness and its accounting stays
// exact: the guarantee of each step rests on the distribution of its
// sample and noise (Poisson at rate q, Gaussian of std σC), independent of
// the data and of everything released before, not on which stream drew
// them, and the steps compose as they would in one uninterrupted run. The
// steps of an abandoned partial epoch are never released (the run folder
// keeps the last complete epoch), so they need no accounting.
//
// InsecureSeededNoise instead draws both as pure functions of (Seed,
// step): runs are reproducible and resume bit-exactly, but the seed is in
// every checkpoint, so the reported (ε, δ) does not hold against whoever
// holds one. Checkpoints record which (Privacy.NoiseRNG). An epoch is
// ⌈N/Batch⌉ steps.
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
	// InsecureSeededNoise draws the sampling and the noise from streams
	// seeded by (Seed, step): reproducible, and replayable by whoever
	// holds a checkpoint. For tests and debugging only.
	InsecureSeededNoise bool `json:"insecure_seeded_noise,omitempty"`
	// ClassWeights, for a classifier, weigh each sampled example's
	// clipped gradient by its class (its target: 0/1 for one logit, the
	// class index for more), each in (0, 1], so that an example still
	// moves the sum by at most C and the guarantee is unchanged. Once
	// clipping binds, every example's vote has the same size whatever its
	// loss, and the majority class's outvote the rest: the common part of
	// the features then drags every logit towards that class (README
	// "Defaults under --dp"). Empty: unweighted.
	ClassWeights []float64 `json:"class_weights,omitempty"`
}

// Sources of a DP run's sampling and noise, as Privacy.NoiseRNG records
// them.
const (
	// NoiseCrypto is ChaCha8 keyed from crypto/rand, the key never stored.
	NoiseCrypto = "crypto"
	// NoiseSeeded is a function of the run's seed and step, which
	// checkpoints record: the noise can be regenerated from a checkpoint.
	// DP checkpoints that record no source were made so.
	NoiseSeeded = "seeded"
)

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
	// NoiseRNG is where the sampling and noise came from: NoiseCrypto, or
	// NoiseSeeded when any step's were seeded (the guarantee then does not
	// hold against whoever holds the checkpoint).
	NoiseRNG string `json:"noise_rng"`
}

// Secure reports whether every step's sampling and noise came from the
// cryptographically secure generator.
func (p Privacy) Secure() bool { return p.NoiseRNG == NoiseCrypto }

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
	for i, w := range c.ClassWeights {
		if !(w > 0 && w <= 1) {
			return Fieldf("dp: %s[%d] is %v: want a weight in (0, 1], so that no example moves the clipped sum by more than C", Field("class_weights"), i, w)
		}
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
	rng       dpSource
	draws     []float64 // one step's N(0, 1) noise draws, every parameter's in turn
}

// dpSource draws a DP run's Poisson samples and Gaussian noise.
type dpSource interface {
	// sample returns step's Poisson sample of n examples at rate q.
	sample(n int, q float64, step int64) []int
	// noise fills v with step's N(0, 1) draws.
	noise(v []float64, step int64)
}

// cryptoSource is ChaCha8 keyed from crypto/rand: one stream for the run
// (or its resumption), whose key exists only inside the generator.
type cryptoSource struct{ rng *rand.Rand }

// readKey fills a generator's key; tests see it through this hook to check
// that no file holds it.
var readKey = func(key []byte) {
	crand.Read(key) // never fails (crypto/rand.Read crashes the program rather)
}

func newCryptoSource() cryptoSource {
	var key [32]byte
	readKey(key[:])
	src := rand.NewChaCha8(key)
	clear(key[:])
	return cryptoSource{rand.New(src)}
}

func (s cryptoSource) sample(n int, q float64, _ int64) []int { return poisson(s.rng, n, q) }

// noise sums four standard normal draws and halves the sum (still
// N(0, 1)): a single floating-point Gaussian sample leaks the value it is
// added to through which results are representable; the sum does not
// (Opacus's secure_mode).
func (s cryptoSource) noise(v []float64, _ int64) {
	for i := range v {
		v[i] = (s.rng.NormFloat64() + s.rng.NormFloat64() + s.rng.NormFloat64() + s.rng.NormFloat64()) / 2
	}
}

// seededSource draws pure functions of (seed, step): DPConfig's
// InsecureSeededNoise.
type seededSource struct{ seed uint64 }

func (s seededSource) sample(n int, q float64, step int64) []int {
	return poissonSample(n, q, s.seed, step)
}

func (s seededSource) noise(v []float64, step int64) {
	rng := rand.New(rand.NewPCG(s.seed^0x6e015e5eed, uint64(step)))
	for i := range v {
		v[i] = rng.NormFloat64()
	}
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
	if task := t.Model.Task(); len(c.ClassWeights) > 0 && task != metrics.Binary && task != metrics.Multiclass {
		return Fieldf("dp: %s weigh a classifier's classes, the model's task is %v", Field("class_weights"), task)
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
	if c.InsecureSeededNoise {
		t.dp.rng = seededSource{t.Config.Seed}
		t.dpSeeded = true
	} else if t.dp.rng == nil {
		t.dp.rng = newCryptoSource()
	}
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
	rng := NoiseCrypto
	if c.InsecureSeededNoise || t.dpSeeded {
		rng = NoiseSeeded
	}
	return Privacy{Noise: c.Noise, MaxGradNorm: c.MaxGradNorm, SampleRate: q, Steps: t.Step,
		Delta: c.Delta, Epsilon: sp.Epsilon, Accountant: "rdp", NoiseRNG: rng}, true, nil
}

// String is the line a run prints at its end: "ε 7.9812 at δ 1e-05 after
// 31 steps (σ 1.427, C 1, q 0.32, noise from crypto/rand)".
func (p Privacy) String() string {
	eps := "∞ (no noise)"
	if !math.IsInf(p.Epsilon, 1) {
		eps = fmt.Sprintf("%.4g", p.Epsilon)
	}
	return fmt.Sprintf("ε %s at δ %g after %d steps (σ %.4g, C %g, q %.4g, %s)", eps, p.Delta, p.Steps, p.Noise, p.MaxGradNorm, p.SampleRate, noiseSource(p.Secure()))
}

// noiseSource describes where a run's sampling and noise come from.
func noiseSource(secure bool) string {
	if secure {
		return "sampling and noise from ChaCha8 keyed by crypto/rand"
	}
	return "sampling and noise seeded by the run's seed: INSECURE, whoever holds a checkpoint can regenerate the noise, and the (ε, δ) does not hold against them"
}

// dpSummary is the line Fit prints before a DP run's first step: the
// mechanism's parameters, the budget and where the randomness comes from.
func (t *Trainer) dpSummary(n int) string {
	c, q := t.Config.DP, t.dp.q
	steps := int64(t.Config.Epochs) * int64(stepsPerEpoch(n, t.Config.Batch))
	sigma := fmt.Sprintf("σ %.4g", c.Noise)
	if c.TargetEpsilon > 0 {
		sigma += fmt.Sprintf(" (the least for target ε %g over %d epochs)", c.TargetEpsilon, t.Config.Epochs)
	}
	left := ""
	if t.Step > 0 {
		left = fmt.Sprintf(", %d taken", t.Step)
	}
	return fmt.Sprintf("dp-sgd: %s, C %g, q %.4g (expected batch %.4g of %d examples), %d steps%s, δ %g; %s",
		sigma, c.MaxGradNorm, q, q*float64(n), n, steps, left, c.Delta, noiseSource(!c.InsecureSeededNoise && !t.dpSeeded))
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

// poissonSample is the seeded Poisson sample of step: a pure function of
// (seed, step).
func poissonSample(n int, q float64, seed uint64, step int64) []int {
	return poisson(rand.New(rand.NewPCG(seed^0xd1ff5a3b1e5, uint64(step))), n, q)
}

// poisson returns a Poisson sample drawn from rng: each of n examples
// independently with probability q. Gaps between chosen examples are
// geometric, so the cost is the sample's size, not n.
func poisson(rng *rand.Rand, n int, q float64) []int {
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
	defer par.Hold()() // as TrainStep
	c, st := t.Config.DP, t.dp
	idx := st.rng.sample(ds.Len(), st.q, t.Step)
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
		if err := classWeigh(coef[:k], c.ClassWeights, targets, size); err != nil {
			return 0, 0, fmt.Errorf("training step %d: %w", t.Step, err)
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
	std := c.Noise * c.MaxGradNorm
	scale := 1 / (st.q * float64(ds.Len()))
	if len(t.optParams) != len(st.params) {
		t.optParams = make([]optim.Param, len(st.params))
	}
	if std > 0 {
		st.rng.noise(st.draws, t.Step)
	}
	off := 0
	for i, p := range st.params {
		g := st.sums[i].Float32s()
		for j, v := range g {
			x := float64(v)
			if std > 0 {
				x += std * st.draws[off+j]
			}
			g[j] = float32(x * scale)
		}
		off += len(g)
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

// classWeigh multiplies each example's clipping coefficient by its class's
// weight (DPConfig.ClassWeights), the class being the first target of the
// example's row of targets (of size rows).
func classWeigh(coef, weights []float64, targets []float32, size int) error {
	if len(weights) == 0 {
		return nil
	}
	tw := len(targets) / size
	for i := range coef {
		c := targets[i*tw]
		if !(c >= 0 && int(c) < len(weights) && float32(int(c)) == c) {
			return fmt.Errorf("dp: class weights for %d classes, but an example's target is %v", len(weights), c)
		}
		coef[i] *= weights[int(c)]
	}
	return nil
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
		size := 0
		for _, p := range st.params {
			st.sums = append(st.sums, tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(p.Shape()...)))
			st.chunk = append(st.chunk, tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(p.Shape()...)))
			size += st.sums[len(st.sums)-1].Shape().TotalSize()
		}
		st.draws = make([]float64, size)
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
