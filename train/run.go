package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/atomicfile"
	"github.com/tapeml/tapeml/charts"
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/train/optim"
)

// MaxThreads bounds RunSpec.Threads. Each GOMAXPROCS slot costs memory and
// garbage-collection work whatever the cores: a 40-example epoch took
// 0.2 s with 2, 3.1 s and 160 MB with 4096, 21 s and 530 MB with 16384, and
// 100000 did not finish. Threads beyond the cores give no speed, so 1024
// leaves room for any machine and for reproducing its thread count.
const MaxThreads = 1024

// RunSpec says what Run trains and how. NewSpec fills one with a kind's
// defaults; a caller then changes what it wants, and lists in Set and
// ConfigSet what it set explicitly. Each setting has a key (a Field) that
// errors about it and Set use; it is given with each field.
type RunSpec struct {
	// Kind is the model kind; its family must implement Family.
	Kind *kinds.Kind
	// Config is the kind's configuration: Kind.Default() with settings
	// changed. What the data decides (an image model's input shape and
	// classes, a recommender's users and items) the family sets.
	Config kinds.Config
	// Data is the family's data options (Family.NewData, with its
	// defaults): where the data is and how to read and split it. Key of
	// its path: "data".
	Data any
	// Training is how to train: NewSpec sets the kind's reference (its
	// configuration's Training method) with Defaults applied. Keys: its
	// JSON keys ("epochs", "lr", "seed").
	Training Config
	// DP, when not nil, trains with DP-SGD (key "dp"; its fields'
	// keys are their JSON keys, "max_grad_norm", "noise_multiplier",
	// "target_epsilon", "delta", "insecure_seeded_noise").
	DP *DPConfig
	// Out is the run folder (key "out"). Default: runs/KIND-TIME
	// (runs/KIND-ALGO-TIME for configurations with an algorithm), or,
	// resuming, the resumed run's own folder.
	Out string
	// Resume continues the run of this checkpoint, or of this run
	// folder's latest epoch (key "resume"): with its configuration,
	// preprocessing, training settings and privacy, its data unless
	// "data" is in Set, and Training.Epochs as the total to reach when
	// "epochs" is in Set.
	Resume string
	// Init starts from the weights of this checkpoint, or of this run
	// folder's best (key "init"), keeping its architecture and
	// preprocessing; the optimizer and epochs start afresh.
	Init string
	// Force trains afresh into an Out that holds another run, deleting
	// its checkpoints (key "force").
	Force bool
	// Threads, when > 0, sets GOMAXPROCS for the process (key
	// "threads"), at most MaxThreads; the same seed and thread count give
	// the same weights.
	Threads int
	// Set lists the settings of Training, Data, DP and the run that the
	// caller gave explicitly, by key; ConfigSet those of Config. Resume
	// and Init keep the checkpoint's settings and refuse some given ones.
	Set       map[Field]bool
	ConfigSet []Field
	// Progress receives what a person watching wants to see: the
	// summary, a line per epoch, the test results. Nil: nothing.
	Progress io.Writer
}

// NewSpec returns the spec of a run of kind k with its defaults: the
// kind's default configuration and reference training, and its family's
// default data options.
func NewSpec(k *kinds.Kind) (*RunSpec, error) {
	fam, ok := k.Family.(Family)
	if !ok {
		return nil, fmt.Errorf("train: kind %s: the %s family has no training", k.Name, k.Family.Name())
	}
	cfg := k.Default()
	var tc Config
	if t, ok := cfg.(trainable); ok {
		tc = t.Training()
	}
	return &RunSpec{Kind: k, Config: cfg, Data: fam.NewData(), Training: tc.Defaults(), Set: map[Field]bool{}}, nil
}

// trainable is a configuration with a reference training setup.
type trainable interface{ Training() Config }

// dpChecker is a configuration that knows whether it trains under DP-SGD.
type dpChecker interface{ CheckDP() error }

// Family is a model family's part of Run: textclass, imageclass and
// recommender implement it on their kinds.Family. Run owns what every
// family shares — the Resume and Init rules, the run folder's lock, the
// trainer, checkpoints, interruption, testing the best epoch — and asks
// the family for the rest.
type Family interface {
	// NewData returns the family's data options with their defaults, a
	// pointer that RunSpec.Data holds.
	NewData() any
	// Settings describes the family's runs to front ends.
	Settings() Settings
	// Check checks the spec's data options and family settings before
	// anything is read.
	Check(s *RunSpec) error
	// Prepare readies a run once its folder is taken: it checks the spec
	// against the checkpoint the run resumes or starts from, reads and
	// splits the data, fits the preprocessing (or takes the checkpoint's)
	// and settles the configuration.
	Prepare(ctx context.Context, p *Plan) (*Prepared, error)
}

// Settings describes a family's runs to front ends.
type Settings struct {
	// Resume says the runs continue (RunSpec.Resume) and start from a
	// checkpoint's weights (RunSpec.Init).
	Resume bool
	// Tuning says the runs take Training's optimizer, schedule, monitor,
	// patience and keep settings.
	Tuning bool
	// Help words a setting's help text for the family, by key, where a
	// front end's general wording does not fit.
	Help map[Field]string
	// Synopsis shows the settings worth naming in a synopsis, flag-style:
	// "[--data DIR]".
	Synopsis string
	// DP is how the family's DP-SGD runs train where the caller did not
	// say: the noise DP-SGD adds to every step's summed gradient is the
	// same whatever the batch, so it asks for larger batches, and for a
	// learning rate and optimizer other than the kind's non-private
	// reference. Zero fields keep the kind's reference.
	DP DPDefaults
}

// DPDefaults are a family's training settings for DP-SGD runs (Settings.DP).
type DPDefaults struct {
	Batch     int          // expected examples per step (Poisson sampling's q·N)
	LR        float64      // learning rate
	Optimizer optim.Config // optimizer, with its momentum; Name "" keeps the kind's
}

// apply sets the training fields the caller did not give (set) to d's,
// and returns the keys it set.
func (d DPDefaults) apply(tc *Config, set map[Field]bool) []Field {
	var changed []Field
	if d.Batch > 0 && !set["batch"] && tc.Batch != d.Batch {
		tc.Batch = d.Batch
		changed = append(changed, "batch")
	}
	if d.LR > 0 && !set["lr"] && tc.LR != d.LR {
		tc.LR = d.LR
		changed = append(changed, "lr")
	}
	if d.Optimizer.Name != "" && !set["optimizer"] {
		o := d.Optimizer
		if set["momentum"] {
			o.Momentum = tc.Optimizer.Momentum
		}
		if set["weight_decay"] {
			o.WeightDecay = tc.Optimizer.WeightDecay
		}
		if set["l1"] {
			o.L1 = tc.Optimizer.L1
		}
		if set["clip_norm"] {
			o.ClipNorm = tc.Optimizer.ClipNorm
		}
		if o != tc.Optimizer {
			tc.Optimizer = o
			changed = append(changed, "optimizer")
		}
	}
	return changed
}

// PrivateArch is implemented by a kind's configuration whose architecture
// has its own settings for DP-SGD runs, as DPDefaults are the family's
// training settings: layers that help without noise can hurt with it (a
// dropout's extra variance, features whose common part every clipped
// example pushes the same way).
type PrivateArch interface {
	// ForDP returns the configuration a DP-SGD run trains, with the
	// architecture's private settings in the fields the caller did not
	// give, and those it changed, by key, with their new values.
	ForDP(given func(Field) bool) (kinds.Config, []Setting)
}

// Setting is a setting's key and value, as a run prints it.
type Setting struct {
	Key   Field
	Value any
}

// privateArch applies the configuration's private settings (PrivateArch)
// to a new DP-SGD run's architecture, which a starting checkpoint's
// replaces (Init), and says so on out.
func privateArch(s *RunSpec, p *Plan, out io.Writer) {
	a, ok := p.Config.(PrivateArch)
	if !ok || s.Init != "" {
		return
	}
	cfg, changed := a.ForDP(func(k Field) bool { return slices.Contains(s.ConfigSet, k) })
	if len(changed) == 0 {
		return
	}
	p.Config = cfg
	parts := make([]string, len(changed))
	for i, c := range changed {
		parts[i] = fmt.Sprintf("%s %v", c.Key, c.Value)
	}
	fmt.Fprintf(out, "dp-sgd: %s: the %s architecture's defaults for private training where none was given\n", strings.Join(parts, ", "), s.Kind.Name)
}

// Plan is the run Prepare readies.
type Plan struct {
	Spec *RunSpec
	// Data is Spec.Data (the family's type).
	Data any
	// Config is the configuration: the spec's, or the resumed run's.
	Config kinds.Config
	// Training is the training configuration, Defaults applied: the
	// spec's, or the resumed run's.
	Training Config
	// Resumed is the checkpoint the run resumes, Start the one whose
	// weights it starts from; nil when none.
	Resumed, Start *kinds.Loaded
	// Out is the run folder.
	Out string
	// Progress is Spec.Progress, io.Discard when that is nil.
	Progress io.Writer
}

// Given reports whether the caller set a setting of the spec explicitly.
func (p *Plan) Given(key Field) bool { return p.Spec.Set[key] }

// Prepared is a run ready to train, as its family prepared it.
type Prepared struct {
	// Config is the configuration trained, completed from the data.
	Config kinds.Config
	// Train, Val and TestSet are the splits; Val and TestSet may be nil.
	Train, Val, TestSet dataset.Dataset
	// Info and Extra are what each checkpoint records besides the weights.
	Info  RunInfo
	Extra map[string][]byte
	// Summary is the line printed before training, given the parameter
	// count (nil: none).
	Summary func(params int) string
	// OnEpoch is called after each epoch (nil: nothing).
	OnEpoch func(EpochResult) error
	// Fit fits a configuration that is not a network (kNN, SVD) and
	// returns its weights; nil for networks.
	Fit func(ctx context.Context) ([]safetensors.Tensor, error)
	// Test scores the best checkpoint in the family's way, the fit having
	// taken fitTime; nil means Run's own test: the best epoch's weights on
	// TestSet.
	Test func(ctx context.Context, best *checkpoint.Checkpoint, fitTime time.Duration) (*TestResult, error)
	// Tested reports further on Run's own test (nil: nothing).
	Tested func(r metrics.Result) error
	// Init, when not nil, are the weights a run started from a checkpoint
	// (Plan.Start) loads instead of the checkpoint's own: the family gave
	// the model a fresh output layer for other classes.
	Init []safetensors.Tensor
}

// TestResult is a run's test score.
type TestResult struct {
	N         int
	Metrics   []metrics.Named
	Confusion metrics.Confusion // classifiers tested by Run
	// Warnings are what the family found wrong with the trained model (a
	// recommender worse than its popularity baseline); Run prints them
	// last, after the checkpoint's folder.
	Warnings []string
	// Baseline is a trivial predictor's score on the same test split, or
	// nil: a private model that does no better gets a warning.
	Baseline *Baseline
}

// Baseline is what a model should beat: a classifier, predicting the
// training split's majority class; a recommender, item popularity.
type Baseline struct {
	Name string // "majority class ham", "popularity"
	// Metric is the baseline's test score, compared with the model's
	// metric of the same name (higher is better unless the name ends in
	// loss, rmse or mae).
	Metric metrics.Named
}

// RunResult is what Run trained.
type RunResult struct {
	Out        string // the run folder
	Checkpoint string // the best checkpoint's folder
	Epoch      int    // the best epoch
	Test       *TestResult
}

// Run trains a model as s says: it takes the run folder's lock, resumes a
// run or starts from a checkpoint's weights, reads and splits the data
// and fits the preprocessing (the kind's family does), trains with a
// checkpoint per epoch, reloads the best epoch and tests it, printing to
// s.Progress as it goes. A cancelled ctx stops the training before the
// next batch with an *InterruptedError; the run folder keeps the last
// complete epoch. Errors about settings are *FieldErrors. The families'
// default data are the built-in samples: a program that trains on them
// links package samples (import _ "github.com/tapeml/tapeml/samples").
func Run(ctx context.Context, s RunSpec) (*RunResult, error) {
	if s.Kind == nil {
		return nil, errors.New("train: RunSpec without a Kind")
	}
	fam, ok := s.Kind.Family.(Family)
	if !ok {
		return nil, fmt.Errorf("train: kind %s: the %s family has no training", s.Kind.Name, s.Kind.Family.Name())
	}
	if s.Config == nil {
		s.Config = s.Kind.Default()
	}
	if s.Data == nil {
		s.Data = fam.NewData()
	}
	if s.Set == nil {
		s.Set = map[Field]bool{}
	}
	out := s.Progress
	if out == nil {
		out = io.Discard
	}
	settings := fam.Settings()
	switch {
	case s.Threads < 0 || s.Threads > MaxThreads:
		return nil, Invalidf("%s must be between 1 and %d, got %d", Field("threads"), MaxThreads, s.Threads)
	case !settings.Resume && s.Resume != "":
		return nil, Fieldf("%s runs do not resume: drop %s", s.Kind.Name, Field("resume"))
	case !settings.Resume && s.Init != "":
		return nil, Fieldf("%s runs do not start from a checkpoint's weights: drop %s", s.Kind.Name, Field("init"))
	}
	if s.Threads > 0 {
		runtime.GOMAXPROCS(s.Threads)
	}
	if s.DP != nil {
		dp := *s.DP // checkDP settles it
		s.DP = &dp
	}
	if err := fam.Check(&s); err != nil {
		return nil, err
	}
	if err := checkDP(&s); err != nil {
		return nil, err
	}
	p := &Plan{Spec: &s, Data: s.Data, Config: s.Config, Training: s.Training, Out: s.Out, Progress: out}
	if s.Init != "" {
		if s.Resume != "" {
			return nil, Fieldf("%s and %s exclude each other: %s continues a run, %s starts a new one from its weights",
				Field("init"), Field("resume"), Field("resume"), Field("init"))
		}
		start, err := kinds.Open(s.Init, checkpoint.PickBest)
		if err != nil {
			return nil, Fieldf("%s: %w", Field("init"), err)
		}
		if start.Kind != s.Kind {
			return nil, Fieldf("%s %s holds a %s model, not %s", Field("init"), start.Checkpoint.Dir, start.Name(), s.Kind.Name)
		}
		p.Start = start
	}
	if s.Resume != "" {
		c, err := checkpoint.Open(s.Resume, checkpoint.PickLatest)
		if err != nil {
			return nil, err
		}
		if err := c.CanResume(); err != nil {
			return nil, Fieldf("%s: %w", Field("resume"), err)
		}
		if err := c.CheckProgress(); err != nil {
			return nil, Fieldf("%s: %w", Field("resume"), err)
		}
		prev, err := kinds.Decode(c)
		if err != nil {
			return nil, err
		}
		if prev.Kind != s.Kind {
			return nil, Fieldf("%s %s holds a %s model, not %s", Field("resume"), c.Dir, prev.Name(), s.Kind.Name)
		}
		tc, err := ConfigOf(prev.Checkpoint)
		if err != nil {
			return nil, err
		}
		if s.Set["epochs"] {
			tc.Epochs = s.Training.Epochs
		}
		p.Resumed, p.Config, p.Training = prev, prev.Config, tc
		if p.Out == "" {
			p.Out = runRoot(c.Dir)
		}
	} else if s.DP != nil {
		p.Training.DP = s.DP
		if changed := settings.DP.apply(&p.Training, s.Set); len(changed) > 0 {
			fmt.Fprintf(out, "dp-sgd: batch %d, %s, lr %g: the %s family's defaults for private training where none was given\n",
				p.Training.Batch, describeOptimizer(p.Training.Optimizer), p.Training.LR, s.Kind.Family.Name())
		}
		privateArch(&s, p, out)
	}
	// Validate before defaults, so that an explicit batch 0 is an error
	// rather than the default.
	if err := p.Training.Validate(); err != nil {
		return nil, err
	}
	if p.Out == "" {
		name := s.Kind.Name
		if a, ok := s.Config.(interface{ Algo() string }); ok && a.Algo() != "" {
			name += "-" + a.Algo()
		}
		p.Out = filepath.Join("runs", name+"-"+time.Now().Format("20060102-150405"))
	}
	if p.Resumed != nil && continues(p.Resumed.Checkpoint.Dir, p.Out) && !s.Force {
		// Resuming an earlier epoch of the run would save over its later
		// ones.
		c := p.Resumed.Checkpoint
		if latest := (checkpoint.Dir{Root: p.Out}).LatestEpoch(); latest > c.Meta.Epoch {
			return nil, Fieldf("%s %s holds epoch %d, but its run has reached epoch %d: resuming would save over epochs %d-%d; give %s the run folder to continue from its latest epoch, or add %s to replace them",
				Field("resume"), c.Dir, c.Meta.Epoch, latest, c.Meta.Epoch+1, latest, Field("resume"), Field("force"))
		}
	}
	release, err := startRun(p.Out, p.Resumed != nil && continues(p.Resumed.Checkpoint.Dir, p.Out), s.Force)
	if err != nil {
		return nil, err
	}
	defer release()
	p.Training = p.Training.Defaults()
	prep, err := fam.Prepare(ctx, p)
	if err != nil {
		return nil, err
	}
	if prep.Fit != nil {
		return fitDirect(ctx, p, prep)
	}
	return fitNetwork(ctx, p, prep, settings.Resume)
}

// checkDP checks the privacy settings: the DP fields apply only with DP,
// a resumed run keeps its own, and the configuration must allow it.
func checkDP(s *RunSpec) error {
	var given []Field
	for _, k := range []Field{"max_grad_norm", "noise_multiplier", "target_epsilon", "delta", "insecure_seeded_noise"} {
		if s.Set[k] {
			given = append(given, k)
		}
	}
	if s.Resume != "" && (s.DP != nil || s.Set["dp"] || len(given) > 0) {
		return Fieldf("%s continues with the run's own privacy settings: drop %s", Field("resume"), append([]Field{"dp"}, given...))
	}
	if s.DP == nil {
		if len(given) > 0 {
			return Fieldf("%s only apply with %s", given, Field("dp"))
		}
		return nil
	}
	d := s.DP
	noise, target := s.Set["noise_multiplier"] || d.Noise != 0, s.Set["target_epsilon"] || d.TargetEpsilon != 0
	switch {
	case !s.Set["max_grad_norm"] && d.MaxGradNorm == 0:
		return Fieldf("%s needs %s C, the per-example clipping bound", Field("dp"), Field("max_grad_norm"))
	case !(d.MaxGradNorm > 0) || math.IsInf(d.MaxGradNorm, 0):
		return Invalidf("%s %v: want a finite number > 0", Field("max_grad_norm"), d.MaxGradNorm)
	case !noise && !target:
		return Fieldf("%s needs %s σ or %s ε", Field("dp"), Field("noise_multiplier"), Field("target_epsilon"))
	case noise && target:
		return Fieldf("%s and %s exclude each other: give one", Field("noise_multiplier"), Field("target_epsilon"))
	case noise && (!(d.Noise >= 0) || math.IsInf(d.Noise, 0)):
		return Invalidf("%s %v: want a finite number ≥ 0", Field("noise_multiplier"), d.Noise)
	case target && (!(d.TargetEpsilon > 0) || math.IsInf(d.TargetEpsilon, 0)):
		return Invalidf("%s %v: want a finite number > 0", Field("target_epsilon"), d.TargetEpsilon)
	case !(d.Delta > 0 && d.Delta < 1):
		return Invalidf("%s %v: want 0 < δ < 1/N", Field("delta"), d.Delta)
	}
	if target {
		d.Noise = 0
	}
	if c, ok := s.Config.(dpChecker); ok {
		return c.CheckDP()
	}
	return nil
}

// fitNetwork trains a network, reloads its best epoch and tests it.
func fitNetwork(ctx context.Context, p *Plan, prep *Prepared, resumable bool) (*RunResult, error) {
	w, tc := p.Progress, p.Training
	net, err := prep.Config.Network()
	if err != nil {
		return nil, err
	}
	if net == nil {
		return nil, fmt.Errorf("train: %s is not a network and its family gave no Fit", kinds.Name(p.Spec.Kind, prep.Config))
	}
	start := time.Now()
	params := graph.NewParams(tensor.Float32, tc.Seed)
	t, err := New(net, params, tc)
	if err != nil {
		return nil, err
	}
	if p.Resumed != nil {
		if err := t.Resume(p.Resumed.Checkpoint); err != nil {
			return nil, err
		}
		fmt.Fprintf(w, "resuming %s at epoch %d, step %d\n", p.Resumed.Checkpoint.Dir, t.Epoch, t.Step)
	}
	if p.Start != nil {
		ws := p.Start.Checkpoint.Weights
		if prep.Init != nil {
			ws = prep.Init
		}
		if err := checkpoint.LoadWeights(params, ws, p.Start.Checkpoint.Dir); err != nil {
			return nil, err
		}
		fmt.Fprintf(w, "starting from the weights of %s\n", p.Start.Checkpoint.Dir)
	}
	if prep.OnEpoch != nil {
		t.Hooks.OnEpoch = prep.OnEpoch
	}
	t.Progress = p.Spec.Progress
	info := prep.Info
	info.Kind = p.Spec.Kind.Name
	switch {
	case p.Start != nil:
		info.Init = initPath(p.Start.Checkpoint)
	case p.Resumed != nil:
		info.Init = p.Resumed.Checkpoint.Meta.Init
	}
	t.Saver = &Saver{Dir: checkpoint.Dir{Root: p.Out, Keep: tc.Keep}, Info: info, Extra: prep.Extra}
	if prep.Summary != nil {
		fmt.Fprintln(w, prep.Summary(params.Count()))
	}
	if err := t.Fit(ctx, prep.Train, prep.Val); err != nil {
		if errors.Is(err, context.Canceled) {
			return nil, interrupted(t.Epoch, p.Out, p.Spec.Kind.Name, resumable, err)
		}
		return nil, err
	}
	fitTime := time.Since(start)
	plots, err := writeHistory(p.Out, t.HistoryFigure(kinds.Name(p.Spec.Kind, prep.Config)+" · "+p.Out))
	if err != nil {
		return nil, err
	}
	dir, err := checkpoint.Resolve(p.Out, checkpoint.PickBest)
	if err != nil {
		return nil, err
	}
	best, err := checkpoint.Load(dir)
	if err != nil {
		return nil, err
	}
	res := &RunResult{Out: p.Out, Checkpoint: dir, Epoch: best.Meta.Epoch}
	switch {
	case prep.Test != nil:
		if res.Test, err = prep.Test(ctx, best, fitTime); err != nil {
			return nil, testErr(err, p.Out)
		}
	case prep.TestSet != nil:
		if err := checkpoint.LoadWeights(t.Program.Params(), best.Weights, dir); err != nil {
			return nil, err
		}
		r, err := t.Evaluate(ctx, prep.TestSet)
		if err != nil {
			return nil, testErr(err, p.Out)
		}
		fmt.Fprintf(w, "trained in %s; best epoch %d by %s\n", time.Since(start).Round(time.Second/10), best.Meta.Epoch, tc.Monitor)
		fmt.Fprintf(w, "test (best epoch, n=%d): %s\n", r.N, FormatMetrics(r.Metrics))
		res.Test = &TestResult{N: r.N, Metrics: r.Metrics, Confusion: r.Confusion}
		if tc.DP != nil {
			if res.Test.Baseline, err = majorityBaseline(prep.Train, r.Confusion, prep.Info.Preprocessing); err != nil {
				return nil, err
			}
		}
		if prep.Tested != nil {
			if err := prep.Tested(r); err != nil {
				return nil, err
			}
		}
	}
	if tc.DP != nil {
		if p, ok, err := t.Privacy(prep.Train.Len()); ok && err == nil {
			fmt.Fprintf(w, "privacy: %s\n", p)
		}
		if res.Test != nil {
			warnBaseline(w, res.Test)
		}
	}
	fmt.Fprintf(w, "history plots: %s\n", strings.Join(plots, ", "))
	fmt.Fprintf(w, "checkpoint: %s\n", dir)
	warn(w, res.Test)
	return res, nil
}

// warn prints a test's warnings, one a line.
func warn(w io.Writer, t *TestResult) {
	if t == nil {
		return
	}
	for _, s := range t.Warnings {
		fmt.Fprintf(w, "warning: %s\n", s)
	}
}

// initPath is where a run's starting weights came from, absolute.
func initPath(c *checkpoint.Checkpoint) string {
	p := c.Dir
	if p == "" {
		p = c.Source
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	return p
}

// History plots of a whole run, in its folder.
const (
	HistoryPNG = "history.png"
	HistorySVG = "history.svg"
)

// writeHistory writes a run's history figure into its folder as PNG and
// SVG and returns their paths.
func writeHistory(out string, f *charts.Figure) ([]string, error) {
	var paths []string
	for _, name := range []string{HistoryPNG, HistorySVG} {
		path := filepath.Join(out, name)
		format, err := charts.FormatOf(name)
		if err != nil {
			return nil, err
		}
		if err := atomicfile.WriteFile(path, func(w io.Writer) error { return f.Write(w, format) }); err != nil {
			return nil, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// majorityBaseline is the test accuracy of predicting the training split's
// majority class, given the test split's confusion matrix; nil when the
// model is not a single-label classifier. The class is named by the
// preprocessing's "classes", if it has them.
func majorityBaseline(trainSet dataset.Dataset, conf metrics.Confusion, preprocessing any) (*Baseline, error) {
	inShapes, targetShape := trainSet.Shapes()
	if conf == nil || conf.N() == 0 || len(targetShape) > 1 || (len(targetShape) == 1 && targetShape[0] != 1) {
		return nil, nil
	}
	counts := make([]int, len(conf))
	const chunk = 512
	inputs := make([][]float32, len(inShapes))
	targets := make([]float32, chunk)
	for from := 0; from < trainSet.Len(); from += chunk {
		idx := sequence(min(chunk, trainSet.Len()-from))
		for i := range idx {
			idx[i] += from
		}
		for k, s := range inShapes {
			size := len(idx)
			for _, d := range s {
				size *= d
			}
			inputs[k] = slices.Grow(inputs[k][:0], size)[:size]
		}
		if err := trainSet.Gather(idx, inputs, targets[:len(idx)]); err != nil {
			return nil, fmt.Errorf("majority-class baseline: %w", err)
		}
		for _, y := range targets[:len(idx)] {
			if c := int(y); c >= 0 && c < len(counts) {
				counts[c]++
			}
		}
	}
	major := 0
	for c, n := range counts {
		if n > counts[major] {
			major = c
		}
	}
	name := fmt.Sprintf("majority class %d", major)
	var named struct {
		Classes []string `json:"classes"`
	}
	if b, err := json.Marshal(preprocessing); err == nil && json.Unmarshal(b, &named) == nil && major < len(named.Classes) {
		name = "majority class " + named.Classes[major]
	}
	correct := 0
	for _, n := range conf[major] {
		correct += n
	}
	return &Baseline{Name: name, Metric: metrics.Named{Name: "accuracy", Value: float64(correct) / float64(conf.N())}}, nil
}

// warnBaseline warns when a private model does no better on its test split
// than its trivial baseline: the noise drowned what it learned.
func warnBaseline(w io.Writer, r *TestResult) {
	b := r.Baseline
	if b == nil {
		return
	}
	v, ok := lookup(r.Metrics, b.Metric.Name)
	if !ok {
		return
	}
	worse := v <= b.Metric.Value
	if modeOf(b.Metric.Name) == metrics.Min {
		worse = v >= b.Metric.Value
	}
	if worse {
		fmt.Fprintf(w, "warning: the private model's test %s %.4f is no better than the %s baseline's %.4f: the noise drowned what it learned (a larger target epsilon, a larger batch or more data would help)\n",
			b.Metric.Name, v, b.Name, b.Metric.Value)
	}
}

// testErr is an error of the test after a complete training.
func testErr(err error, out string) error {
	if errors.Is(err, context.Canceled) {
		return &InterruptedError{Testing: true, Out: out, Err: err}
	}
	return err
}

// fitDirect fits a configuration that is not a network, saves it as the
// run's one checkpoint and tests it.
func fitDirect(ctx context.Context, p *Plan, prep *Prepared) (*RunResult, error) {
	start := time.Now()
	weights, err := prep.Fit(ctx)
	if err != nil {
		return nil, err
	}
	c := &checkpoint.Checkpoint{Weights: weights, Extra: map[string][]byte{}}
	for name, b := range prep.Extra {
		c.Extra[name] = b
	}
	c.Meta.ModelKind, c.Meta.Epoch, c.Meta.WeightsOnly = p.Spec.Kind.Name, 1, true
	if c.Meta.ModelConfig, err = json.Marshal(prep.Info.Config); err != nil {
		return nil, err
	}
	if c.Meta.Preprocessing, err = json.Marshal(prep.Info.Preprocessing); err != nil {
		return nil, err
	}
	if _, err := (checkpoint.Dir{Root: p.Out}).Save(c, 1, true); err != nil {
		return nil, err
	}
	dir, err := checkpoint.Resolve(p.Out, checkpoint.PickBest)
	if err != nil {
		return nil, err
	}
	res := &RunResult{Out: p.Out, Checkpoint: dir, Epoch: 1}
	if prep.Test != nil {
		best, err := checkpoint.Load(dir)
		if err != nil {
			return nil, err
		}
		if res.Test, err = prep.Test(ctx, best, time.Since(start)); err != nil {
			return nil, testErr(err, p.Out)
		}
	}
	fmt.Fprintf(p.Progress, "checkpoint: %s\n", dir)
	warn(p.Progress, res.Test)
	return res, nil
}

// FormatMetrics writes metrics as "name value" pairs, four decimals.
func FormatMetrics(ms []metrics.Named) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, fmt.Sprintf("%s %.4f", m.Name, m.Value))
	}
	return strings.Join(parts, "  ")
}

// runRoot is the run folder of a checkpoint directory (its parent).
func runRoot(dir string) string { return filepath.Dir(filepath.Clean(dir)) }

// continues reports whether a run resumed from the checkpoint in dir
// writes into that checkpoint's own run folder (out), so that the
// folder's epochs are its own.
func continues(dir, out string) bool {
	a, err1 := filepath.Abs(runRoot(dir))
	b, err2 := filepath.Abs(out)
	return err1 == nil && err2 == nil && a == b
}

// describeOptimizer names an optimizer for a progress line: "adam",
// "sgd momentum 0.9".
func describeOptimizer(o optim.Config) string {
	if o.Momentum > 0 {
		return fmt.Sprintf("%s momentum %g", o.Name, o.Momentum)
	}
	return o.Name
}
