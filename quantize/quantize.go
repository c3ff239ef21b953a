package quantize

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
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
	WeightsBytes      int64   // the weights file
	NonEmbeddingBytes int64   // tensor bytes of everything but the embedding tables
	Metric            string  // "accuracy" or "rmse"
	Value             float64 // the metric on the test split
	N                 int     // test examples (ratings)
	Throughput32      float64 // examples per second at batch 32 (median of the rounds)
	Latency1          time.Duration
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
	shapes, err := graph.ParamShapes(l.Network.Build)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	roles := map[string]graph.Role{}
	hasConv := false
	for _, p := range shapes {
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

	// The int8 tensors, in the weights' order.
	byName := map[string]safetensors.Tensor{}
	for _, t := range c.Weights {
		byName[t.Name] = t
	}
	var ts []safetensors.Tensor
	for _, p := range l.Params.List() {
		orig, ok := byName[p.Name]
		if !ok {
			return nil, fmt.Errorf("checkpoint %s: no tensor %q", dir, p.Name)
		}
		role := roles[p.Name]
		shape := p.Shape()
		if role == graph.RoleNone || (role == graph.RoleEmbedding && (len(shape) != 2 || shape[1] < 2)) {
			ts = append(ts, orig) // biases, normalization, and tables of one value per row
			continue
		}
		q := graph.QuantizeRows(p.Value.Float32s(), shape)
		if m, ok := calib[p.Name]; ok && role == graph.RoleEmbedding && m > 0 && !math.IsInf(m, 0) {
			// A table a convolution reads in int8 with a static scale
			// (TextCNN): one scale for every row, that scale.
			q = graph.QuantizeWithScale(p.Value.Float32s(), shape, float32(m/127))
		}
		if role == graph.RoleConv {
			m, ok := calib[p.Name]
			if !ok || !(m > 0) || math.IsInf(m, 0) {
				return nil, fmt.Errorf("checkpoint %s: calibration recorded no input range for %q (%v)", dir, p.Name, m)
			}
			q.InputScale = float32(m / 127)
		}
		ts = append(ts, checkpoint.QuantTensors(p.Name, q)...)
		rep.Quantized[p.Name] = role.String()
	}
	info := &checkpoint.Quantization{
		Format:             "int8",
		Scheme:             "weights: symmetric int8 per output channel (embeddings per row); activations: int8 per row at run time, convolution inputs with static scales from calibration; int32 accumulation",
		CalibrationBatches: rep.Calibration,
		Tensors:            rep.Quantized,
		Source:             dir,
	}
	raw, err := checkpoint.QuantizationJSON(info)
	if err != nil {
		return nil, err
	}
	c8 := *c
	c8.Dir = ""
	c8.Weights = ts
	c8.Optimizer = nil
	c8.Meta.WeightsOnly = true // the optimizer's state belongs to the float32 weights
	c8.Extra = map[string][]byte{}
	for k, v := range c.Extra {
		c8.Extra[k] = v
	}
	c8.Extra[checkpoint.QuantizationFile] = raw
	if err := checkpoint.CheckOutput(out, opt.Replace, dir); err != nil {
		return nil, err
	}
	if err := checkpoint.Save(out, &c8); err != nil {
		return nil, err
	}
	if err := measure(ctx, rep, splits, roles, opt); err != nil {
		return rep, err
	}
	rep.Warnings = warnings(rep, splits.n)
	return rep, nil
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
	// batches, so that a change of machine load hits both.
	nb := min(s.n/32, 16)
	lat := min(s.n, 64)
	var thr [2][]float64
	var lats [2][]float64
	for _, m := range models { // warm-up: compile the machines and pack the weights
		if err := m.Warmup(ctx); err != nil {
			return err
		}
	}
	for r := 0; r < opt.Rounds; r++ {
		for i, m := range models {
			if nb > 0 {
				start := time.Now()
				for b := 0; b < nb; b++ {
					if _, err := m.Forward(ctx, slice(s.inputs, s.n, b*32, b*32+32), 32); err != nil {
						return err
					}
				}
				thr[i] = append(thr[i], float64(nb*32)/time.Since(start).Seconds())
			}
			start := time.Now()
			for e := 0; e < lat; e++ {
				if _, err := m.Forward(ctx, slice(s.inputs, s.n, e, e+1), 1); err != nil {
					return err
				}
			}
			lats[i] = append(lats[i], time.Since(start).Seconds()/float64(lat))
		}
	}
	for i, st := range []*Stats{&rep.Before, &rep.After} {
		st.Throughput32 = median(thr[i])
		st.Latency1 = time.Duration(median(lats[i]) * 1e9)
	}
	return nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
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
