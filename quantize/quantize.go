package quantize

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/internal/core"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/safetensors"
)

// DefaultCalibrate is the default number of calibration batches (of 32
// training examples) for models with convolutions.
const DefaultCalibrate = 32

// Options configures Int8.
type Options struct {
	// Calibrate is the number of batches of 32 training examples whose
	// convolution inputs set the static scales; it must be at least 1 for
	// a model with convolutions. Negative means DefaultCalibrate.
	Calibrate int
	// Rounds of the interleaved timing (default 5); 0 skips the
	// measurements of speed.
	Rounds int
	// Parity is the number of test inputs whose outputs and top-1
	// answers are compared; 0 means the whole test split.
	Parity int
	// Replace lets Int8 replace an existing checkpoint at the output
	// folder; without it that is an error (*atomicfile.ExistsError). The
	// source checkpoint, and anything but a checkpoint, is never replaced.
	Replace bool
}

// Stats describes one model on its test split.
type Stats struct {
	WeightsBytes      int64         // the weights file
	NonEmbeddingBytes int64         // tensor bytes of everything but the embedding tables
	Metric            string        // "accuracy" or "rmse"
	Value             float64       // the metric on the test split
	N                 int           // test examples (ratings)
	Throughput32      float64       // examples per second at batch 32 (each batch's fastest round)
	CPU32             time.Duration // the process's CPU time per batch of 32 (cpuClock; each batch's fastest round)
	Latency1          time.Duration // mean time of one example alone (each example's fastest round)
}

// Report is what Int8 did and measured.
type Report struct {
	Source, Out   string
	Kind          string
	Quantized     map[string]string // weight → role
	Calibration   int               // batches used
	Before, After Stats
	MaxLogitDiff  float64 // largest |float32 − int8| output over the parity inputs
	ParityInputs  int
	// Agreement compares the two models' top-1 answers on the parity
	// inputs.
	Agreement Agreement
	Rounds    int
	// Warnings says what the caller should be told although the model was
	// written: int8 slower than float32 at batch 32 (or its speed not
	// measured), top-1 agreement below MinAgreement.
	Warnings []Warning
	// Layers are the units of int8 choice (weights that run in int8
	// together), with their timings when LayersTimed, and which of them
	// Int8 kept in int8: those that made the model more than Margin faster
	// at batch 32. Noise is how much the same model timed twice in those
	// rounds differed (the median ratio's distance from 1). Without
	// timings (Rounds 0, a test split under 32 examples) every layer is
	// int8.
	Layers        []Layer
	LayersTimed   bool
	Noise, Margin float64
}

// ErrNothingToQuantize is returned for models without weight matrices
// (kNN and SVD recommenders); nothing is written.
var ErrNothingToQuantize = errors.New("nothing to quantize")

// Int8 quantizes the checkpoint at src (a checkpoint or run folder: its
// best checkpoint) and writes the int8 checkpoint to out atomically, then
// measures both.
func Int8(ctx context.Context, src, out string, opt Options) (*Report, error) {
	if out == "" {
		return nil, errors.New("quantize: no output folder")
	}
	if opt.Calibrate < 0 {
		opt.Calibrate = DefaultCalibrate
	}
	dir, err := checkpoint.Resolve(src, checkpoint.PickBest)
	if err != nil {
		return nil, err
	}
	// Before the minutes of calibration, and again before the save.
	if err := checkpoint.CheckOutput(out, opt.Replace, dir); err != nil {
		return nil, err
	}
	c, err := checkpoint.Load(dir)
	if err != nil {
		return nil, err
	}
	if _, ok := c.Extra[checkpoint.QuantizationFile]; ok {
		return nil, fmt.Errorf("checkpoint %s is already quantized (it has %s); optimize its float32 source instead", dir, checkpoint.QuantizationFile)
	}
	l, err := kinds.Decode(c)
	if err != nil {
		return nil, err
	}
	if l.Network == nil {
		return nil, fmt.Errorf("checkpoint %s: a %s model has no weight matrices: %w; nothing written", dir, l.Name(), ErrNothingToQuantize)
	}
	specs, err := graph.ParamShapes(l.Network.Build)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	roles := map[string]graph.Role{}
	hasConv := false
	for _, p := range specs {
		roles[p.Name] = p.Role
		hasConv = hasConv || p.Role == graph.RoleConv
	}
	if hasConv && opt.Calibrate < 1 {
		return nil, &CalibrationError{Batches: opt.Calibrate, Kind: l.Kind.Name}
	}
	splits, err := loadSplits(ctx, l)
	if err != nil {
		return nil, err
	}
	rep := &Report{Source: dir, Out: out, Kind: l.Kind.Name, Quantized: map[string]string{}, Rounds: opt.Rounds}
	var calib map[string]float64
	if hasConv {
		if calib, err = calibrate(ctx, dir, splits.train, opt.Calibrate); err != nil {
			return nil, err
		}
		rep.Calibration = opt.Calibrate
	}

	// Every weight that can be int8, in int8 form; embedding tables in
	// both forms a convolution may want.
	forms := map[string]*graph.QuantWeight{}
	static := map[string]*graph.QuantWeight{} // tables a convolution reads in int8 with a static scale
	for _, p := range l.Params.List() {
		role := roles[p.Name]
		shape := p.Shape()
		if role == graph.RoleNone || (role == graph.RoleEmbedding && (len(shape) != 2 || shape[1] < 2)) {
			continue // biases, normalization, and tables of one value per row
		}
		forms[p.Name] = graph.QuantizeRows(p.Value.Float32s(), shape)
		if m, ok := calib[p.Name]; ok && role == graph.RoleEmbedding && m > 0 && !math.IsInf(m, 0) {
			// A table a convolution reads in int8 with a static scale
			// (TextCNN): one scale for every row, that scale.
			static[p.Name] = graph.QuantizeWithScale(p.Value.Float32s(), shape, float32(m/127))
		}
		if role == graph.RoleConv {
			m, ok := calib[p.Name]
			if !ok || !(m > 0) || math.IsInf(m, 0) {
				return nil, fmt.Errorf("checkpoint %s: calibration recorded no input range for %q (%v)", dir, p.Name, m)
			}
			forms[p.Name].InputScale = float32(m / 127)
		}
	}
	layers := units(specs)
	build := func(int8 []bool) (*checkpoint.Checkpoint, map[string]string, error) {
		return assemble(c, l.Params, roles, forms, static, layers, int8, rep.Calibration)
	}
	// The layers' choice, at batch 32 on the test inputs.
	ts, aa, err := timeLayers(ctx, layers, func(int8 []bool) (*tapeml.Model, error) {
		cc, _, err := build(int8)
		if err != nil {
			return nil, err
		}
		return decodeModel(cc)
	}, splits, opt.Rounds)
	if err != nil {
		return nil, err
	}
	if ts == nil {
		ts = make([]layerTimes, len(layers))
	} else {
		rep.LayersTimed = true
	}
	rep.Noise, rep.Margin = noiseMargin(aa[1], aa[0])
	choose(layers, ts, rep.Margin)
	rep.Layers = layers
	kept := make([]bool, len(layers))
	for i, ly := range layers {
		kept[i] = ly.Kept
	}
	c8, quantized, err := build(kept)
	if err != nil {
		return nil, err
	}
	rep.Quantized = quantized
	c8.Dir = "" // a new checkpoint
	if err := checkpoint.CheckOutput(out, opt.Replace, dir); err != nil {
		return nil, err
	}
	if err := checkpoint.Save(out, c8); err != nil {
		return nil, err
	}
	if err := measure(ctx, rep, splits, roles, opt); err != nil {
		return rep, err
	}
	rep.Warnings = warnings(rep, splits.n)
	return rep, nil
}

// assemble is the int8 checkpoint of c with the layers whose int8 entry
// is true in int8 (forms), the others in float32 as c has them, embedding
// tables int8 per row — or with their convolution's static scale when one
// of the model's convolutions is int8 — and the other parameters as they
// are; it also returns the int8 weights by role.
func assemble(c *checkpoint.Checkpoint, params *graph.Params, roles map[string]graph.Role, forms, static map[string]*graph.QuantWeight, layers []Layer, int8 []bool, calibration int) (*checkpoint.Checkpoint, map[string]string, error) {
	byName := map[string]safetensors.Tensor{}
	for _, t := range c.Weights {
		byName[t.Name] = t
	}
	inLayer := map[string]bool{}
	convInt8 := false
	for i, ly := range layers {
		for _, w := range ly.Weights {
			inLayer[w] = int8[i]
		}
		convInt8 = convInt8 || int8[i] && ly.Role == graph.RoleConv.String()
	}
	quantized, kept := map[string]string{}, map[string]string{}
	var ts []safetensors.Tensor
	for _, p := range params.List() {
		orig, ok := byName[p.Name]
		if !ok {
			return nil, nil, fmt.Errorf("checkpoint %s: no tensor %q", c.Dir, p.Name)
		}
		q := forms[p.Name]
		if sq, ok := static[p.Name]; ok && convInt8 {
			q = sq
		}
		if on, ok := inLayer[p.Name]; ok && !on {
			kept[p.Name] = roles[p.Name].String()
			q = nil
		}
		if q == nil {
			ts = append(ts, orig)
			continue
		}
		ts = append(ts, checkpoint.QuantTensors(p.Name, q)...)
		quantized[p.Name] = roles[p.Name].String()
	}
	info := &checkpoint.Quantization{
		Format:             "int8",
		Scheme:             "weights: symmetric int8 per output channel (embeddings per row); activations: int8 per row at run time, convolution inputs with static scales from calibration; int32 accumulation; layers not faster in int8 at batch 32 kept in float32",
		CalibrationBatches: calibration,
		Tensors:            quantized,
		Source:             c.Dir,
	}
	if len(kept) > 0 {
		info.Float32 = kept
	}
	raw, err := checkpoint.QuantizationJSON(info)
	if err != nil {
		return nil, nil, err
	}
	c8 := *c
	c8.Weights = ts
	c8.Optimizer = nil
	c8.Meta.WeightsOnly = true // the optimizer's state belongs to the float32 weights
	c8.Extra = map[string][]byte{}
	for k, v := range c.Extra {
		c8.Extra[k] = v
	}
	c8.Extra[checkpoint.QuantizationFile] = raw
	return &c8, quantized, nil
}

// splits are the data Int8 needs.
type splits struct {
	train, test dataset.Dataset // as the network reads them
	inputs      [][]float32     // test inputs for timing and parity, one flat slice per model input
	n           int             // examples in inputs
}

func loadSplits(ctx context.Context, l *kinds.Loaded) (*splits, error) {
	sp, ok := l.Codec.(kinds.Splitter)
	if !ok {
		return nil, fmt.Errorf("a %s model cannot read its data again", l.Name())
	}
	s := &splits{}
	var err error
	if s.train, _, s.test, err = sp.Splits(ctx); err != nil {
		return nil, err
	}
	if s.test == nil || s.test.Len() == 0 {
		return nil, fmt.Errorf("the model's data has no test split")
	}
	s.inputs, s.n, err = gather(s.test, s.test.Len())
	return s, err
}

// gather returns the first n examples' inputs of ds, flat.
func gather(ds dataset.Dataset, n int) ([][]float32, int, error) {
	inputs, _, rows, err := dataset.Head(ds, n)
	return inputs, rows, err
}

// slice returns examples [from, to) of flat inputs holding n examples.
func slice(inputs [][]float32, n, from, to int) [][]float32 {
	out := make([][]float32, len(inputs))
	for k, in := range inputs {
		w := len(in) / n
		out[k] = in[from*w : to*w]
	}
	return out
}

// calibrate runs batches of 32 training examples, spread over the training
// split, through a float32 serving graph that records its convolutions'
// input ranges.
func calibrate(ctx context.Context, dir string, ds dataset.Dataset, batches int) (map[string]float64, error) {
	if ds == nil || ds.Len() == 0 {
		return nil, fmt.Errorf("calibration needs training data, and the model's data has none")
	}
	m, err := tapeml.LoadWithOptions(dir, tapeml.Options{MaxBatch: 32})
	if err != nil {
		return nil, err
	}
	// The machine of batch 1 is already compiled; those of the batch run
	// below are compiled after this and record.
	params := core.Unwrap(m).Loaded.Params
	params.Calibrate()
	inputs, n, err := gather(ds, min(ds.Len(), batches*32))
	if err != nil {
		return nil, err
	}
	for from := 0; from < n; from += 32 {
		to := min(n, from+32)
		if to-from < 2 && from > 0 {
			break
		}
		if _, err := m.Forward(ctx, slice(inputs, n, from, to), to-from); err != nil {
			return nil, err
		}
	}
	return params.Calibration(), nil
}

// measure fills rep's statistics for the float32 model at rep.Source and
// the int8 one at rep.Out.
func measure(ctx context.Context, rep *Report, s *splits, roles map[string]graph.Role, opt Options) error {
	models := make([]*tapeml.Model, 2)
	for i, path := range []string{rep.Source, rep.Out} {
		m, err := tapeml.LoadWithOptions(path, tapeml.Options{MaxBatch: 32})
		if err != nil {
			return err
		}
		models[i] = m
		st := []*Stats{&rep.Before, &rep.After}[i]
		if err := sizes(path, roles, st); err != nil {
			return err
		}
		if err := accuracy(ctx, m, st); err != nil {
			return err
		}
	}
	// Parity: the outputs and answers on the test inputs (up to
	// opt.Parity of them).
	n := s.n
	if opt.Parity > 0 {
		n = min(n, opt.Parity)
	}
	if n > 0 {
		in := slice(s.inputs, s.n, 0, n)
		a, err := models[0].Forward(ctx, in, n)
		if err != nil {
			return err
		}
		b, err := models[1].Forward(ctx, in, n)
		if err != nil {
			return err
		}
		for i := range a {
			rep.MaxLogitDiff = max(rep.MaxLogitDiff, math.Abs(float64(a[i]-b[i])))
		}
		rep.ParityInputs = n
		rep.Agreement = agreement(core.Unwrap(models[0]).Loaded.Codec, in, a, b, n)
	}
	if opt.Rounds < 1 || s.n == 0 {
		return nil
	}
	// Interleaved rounds: each round times both models on the same
	// batches; each batch (and each single example) counts with its
	// fastest round (undisturbed), which other work on the machine
	// disturbed least.
	nb := min(s.n/32, 16)
	lat := min(s.n, 64)
	var thr, cpu, lats [2][][]float64 // [model][round][batch or example]
	clock := cpuClock()
	for _, m := range models { // warm-up: compile the machines and pack the weights
		if err := m.Warmup(ctx); err != nil {
			return err
		}
	}
	for r := 0; r < opt.Rounds; r++ {
		for k := range models {
			i := (k + r) % 2
			m := models[i]
			bt, ct := make([]float64, nb), make([]float64, nb)
			for b := range bt {
				start, from := time.Now(), clock()
				if _, err := m.Forward(ctx, slice(s.inputs, s.n, b*32, b*32+32), 32); err != nil {
					return err
				}
				bt[b], ct[b] = time.Since(start).Seconds(), (clock() - from).Seconds()
			}
			thr[i], cpu[i] = append(thr[i], bt), append(cpu[i], ct)
			et := make([]float64, lat)
			for e := range et {
				start := time.Now()
				if _, err := m.Forward(ctx, slice(s.inputs, s.n, e, e+1), 1); err != nil {
					return err
				}
				et[e] = time.Since(start).Seconds()
			}
			lats[i] = append(lats[i], et)
		}
	}
	for i, st := range []*Stats{&rep.Before, &rep.After} {
		if t := undisturbed(thr[i]); t > 0 {
			st.Throughput32 = float64(nb*32) / t
		}
		if nb > 0 {
			st.CPU32 = seconds(undisturbed(cpu[i]) / float64(nb))
		}
		st.Latency1 = seconds(undisturbed(lats[i]) / float64(lat))
	}
	return nil
}

// sizes reads the weights file of the checkpoint at path.
func sizes(path string, roles map[string]graph.Role, st *Stats) error {
	dir, err := checkpoint.Resolve(path, checkpoint.PickBest)
	if err != nil {
		return err
	}
	c, err := checkpoint.Load(dir)
	if err != nil {
		return err
	}
	st.WeightsBytes = c.Meta.Files[checkpoint.WeightsFile].Size
	if fi, err := os.Stat(dir + "/" + checkpoint.WeightsFile); err == nil {
		st.WeightsBytes = fi.Size()
	}
	for _, t := range c.Weights {
		if roles[baseName(t.Name, roles)] != graph.RoleEmbedding {
			st.NonEmbeddingBytes += int64(len(t.Data))
		}
	}
	return nil
}

// baseName is the weight a tensor of an int8 checkpoint belongs to.
func baseName(name string, roles map[string]graph.Role) string {
	for _, suf := range []string{checkpoint.SuffixInt8, checkpoint.SuffixScale, checkpoint.SuffixInputScale} {
		if b, ok := cutSuffix(name, suf); ok {
			if _, known := roles[b]; known {
				return b
			}
		}
	}
	return name
}

func cutSuffix(s, suf string) (string, bool) {
	if len(s) >= len(suf) && s[len(s)-len(suf):] == suf {
		return s[:len(s)-len(suf)], true
	}
	return s, false
}

// accuracy evaluates m on the test split of its run's data: accuracy for
// classifiers, RMSE for recommenders.
func accuracy(ctx context.Context, m *tapeml.Model, st *Stats) error {
	r, err := m.EvaluateRunData(ctx, tapeml.EvalOptions{})
	if err != nil {
		return err
	}
	st.N = r.N
	for _, x := range r.Metrics {
		if x.Name == "accuracy" || x.Name == "rmse" {
			st.Metric, st.Value = x.Name, x.Value
			break
		}
	}
	if st.Metric == "" {
		return fmt.Errorf("evaluation gave no accuracy or RMSE (%v)", r.Metrics)
	}
	return nil
}

// CalibrationError is a model with convolutions quantized without
// calibration batches.
type CalibrationError struct {
	Batches int
	Kind    string
}

func (e *CalibrationError) Error() string {
	return e.Named(func(key string) string { return key })
}

// Named says the error with Options.Calibrate, the setting "calibrate",
// named by name.
func (e *CalibrationError) Named(name func(key string) string) string {
	return fmt.Sprintf("%s %d: a %s model has convolutions, whose static input scales need at least 1 calibration batch (default %d)", name("calibrate"), e.Batches, e.Kind, DefaultCalibrate)
}
