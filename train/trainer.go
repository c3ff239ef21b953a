package train

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/internal/par"
	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/train/optim"
	"github.com/tapeml/tapeml/train/progress"
)

// Model is what the trainer needs of a model: a forward pass, and the
// objective training adds to it.
type Model interface {
	// Build adds the model's forward pass for a batch of n examples.
	Build(b *graph.Builder, n int) (graph.Outputs, error)
	// Loss adds the training objective: the target input and the mean loss.
	Loss(b *graph.Builder, out graph.Outputs) (graph.Objective, error)
	// Task says how to read the output: logits of a binary or multiclass
	// classifier, or a regression's predictions.
	Task() metrics.Task
}

// Classifier is implemented by multiclass models: the number of classes
// their output has.
type Classifier interface{ Classes() int }

// EpochAware is implemented by datasets whose examples change from epoch to
// epoch (random augmentation): the trainer tells them the epoch before it
// starts, so their randomness can be a pure function of (seed, epoch,
// example) and a resumed run sees the same examples.
type EpochAware interface{ SetEpoch(epoch int) }

// Config is how to train. The zero value of a field means its default.
type Config struct {
	Epochs    int                  `json:"epochs"`    // passes over the training set; default 10
	Batch     int                  `json:"batch"`     // examples per step; default 32
	Seed      uint64               `json:"seed"`      // shuffling and dropout; default 1
	LR        float64              `json:"lr"`        // base learning rate; default 0.001
	Optimizer optim.Config         `json:"optimizer"` // default Adam
	Schedule  optim.ScheduleConfig `json:"schedule"`  // default constant
	Monitor   string               `json:"monitor"`   // metric that picks the best epoch; default "val/loss"
	Patience  int                  `json:"patience"`  // epochs without improvement before stopping; 0 = never stop early
	Keep      int                  `json:"keep"`      // epoch checkpoints kept besides the best; default 3

	// DP turns on differentially private training (dp.go); nil = off.
	DP *DPConfig `json:"dp,omitempty"`
}

// Defaults fills in zero fields.
func (c Config) Defaults() Config {
	if c.Epochs == 0 {
		c.Epochs = 10
	}
	if c.Batch == 0 {
		c.Batch = 32
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.LR == 0 {
		c.LR = 0.001
	}
	if c.Optimizer.Name == "" {
		c.Optimizer = optim.Config{Name: optim.Adam}
	}
	if c.Schedule.Name == "" {
		c.Schedule.Name = "constant"
	}
	if c.Monitor == "" {
		c.Monitor = "val/loss"
	}
	if c.Keep == 0 {
		c.Keep = 3
	}
	return c
}

// Validate reports the first unusable field.
func (c Config) Validate() error {
	switch {
	case c.Epochs < 1:
		return Invalidf("%s must be at least 1, got %d", Field("epochs"), c.Epochs)
	case c.Batch < 1:
		return Invalidf("%s must be at least 1, got %d", Field("batch"), c.Batch)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return Invalidf("%s must be a positive number, got %v", Field("lr"), c.LR)
	case c.Patience < 0:
		return Invalidf("%s must not be negative, got %d", Field("patience"), c.Patience)
	}
	return nil
}

// Hooks are called by the loop; nil hooks are skipped.
type Hooks struct {
	EveryN  int // OnSteps is called every EveryN steps
	OnSteps func(step int64, loss float64)
	OnEpoch func(e EpochResult) error // after validation and checkpointing; an error stops training
}

// EpochResult is what one epoch produced.
type EpochResult struct {
	Epoch      int             // 1-based
	Metrics    []metrics.Named // in display order
	Best       bool            // the monitored metric improved
	Checkpoint string          // directory written, if any
	Duration   time.Duration
}

// Trainer runs the loop for one model and one parameter store.
type Trainer struct {
	Config  Config
	Model   Model
	Program *graph.Program
	Opt     optim.Optimizer
	Sched   optim.Schedule
	History *metrics.History
	Early   *metrics.EarlyStopping

	Epoch int   // epochs completed
	Step  int64 // optimizer steps taken

	Progress io.Writer // nil: silent
	Saver    *Saver    // nil: no checkpoints
	Hooks    Hooks

	stepsPerEpoch  int
	pendingPlateau *optim.PlateauState // restored by Resume, applied when the schedule is built
	bufs           map[int]buffers
	optParams      []optim.Param
	dp             *dpState
	dpSeeded       bool // some step's DP sampling and noise were seeded (dp.go)
}

// New prepares a trainer; params may already hold weights (fine-tuning, or
// a checkpoint about to be resumed).
func New(model Model, params *graph.Params, cfg Config) (*Trainer, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opt, err := optim.New(cfg.Optimizer)
	if err != nil {
		return nil, err
	}
	t := &Trainer{
		Config:  cfg,
		Model:   model,
		Program: graph.NewProgram(model.Build, model.Loss, params, &graph.Noise{Seed: cfg.Seed}),
		Opt:     opt,
		History: &metrics.History{},
		Early:   &metrics.EarlyStopping{Monitor: cfg.Monitor, Mode: modeOf(cfg.Monitor), Patience: cfg.Patience},
		bufs:    map[int]buffers{},
	}
	if err := t.Program.Materialize(); err != nil {
		return nil, err
	}
	return t, nil
}

// modeOf says whether a metric improves downwards (losses, errors) or upwards.
func modeOf(metric string) metrics.Mode {
	for _, s := range []string{"loss", "rmse", "mae"} {
		if len(metric) >= len(s) && metric[len(metric)-len(s):] == s {
			return metrics.Min
		}
	}
	return metrics.Max
}

func (t *Trainer) batch(ds dataset.Dataset, idx []int) (buffers, error) {
	b, ok := t.bufs[len(idx)]
	if !ok {
		b = newBuffers(ds, len(idx))
		t.bufs[len(idx)] = b
	}
	return b, ds.Gather(idx, b.flat, b.targets.Float32s())
}

// schedule builds the learning-rate schedule once the epoch length is known.
func (t *Trainer) schedule(stepsPerEpoch int) error {
	if t.Sched != nil && t.stepsPerEpoch == stepsPerEpoch {
		return nil
	}
	cfg := t.Config.Schedule
	cfg.LR = t.Config.LR
	if (cfg.Name == optim.ScheduleCosine || cfg.Name == optim.ScheduleLinear) && cfg.TotalSteps == 0 && cfg.TotalEpochs == 0 {
		cfg.TotalEpochs = t.Config.Epochs // decay over the whole run unless told otherwise
	}
	s, err := optim.NewSchedule(cfg, stepsPerEpoch)
	if err != nil {
		return err
	}
	if p, ok := s.(*optim.ReduceOnPlateau); ok && t.pendingPlateau != nil {
		if err := p.SetState(*t.pendingPlateau); err != nil {
			return err
		}
		t.pendingPlateau = nil
	}
	t.Sched, t.stepsPerEpoch = s, stepsPerEpoch
	return nil
}

// TrainStep runs one optimizer step on the examples at idx and returns the
// batch's mean loss and outputs.
//
// The kernels' fork helpers keep polling through the step (par.Hold):
// its forks are separated by serial stretches long enough for a helper to
// fall asleep, and waking one took 0.1 ms or more on a virtual machine.
func (t *Trainer) TrainStep(ds dataset.Dataset, idx []int) (float64, *tensor.Dense, error) {
	defer par.Hold()()
	b, err := t.batch(ds, idx)
	if err != nil {
		return 0, nil, err
	}
	m, err := t.Program.Machine(len(idx), graph.Train)
	if err != nil {
		return 0, nil, err
	}
	t.Program.Noise().Step = uint64(t.Step)
	if err := m.Run(b.inputs, b.targets); err != nil {
		return 0, nil, fmt.Errorf("training step %d: %w", t.Step, err)
	}
	loss := m.Loss()
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return 0, nil, Fieldf("training step %d: the loss is %v (try a lower %s)", t.Step, loss, Field("lr"))
	}
	grads := m.Gradients()
	if len(t.optParams) != len(grads) {
		t.optParams = make([]optim.Param, len(grads))
	}
	for i, g := range grads {
		t.optParams[i] = optim.Param{Name: g.Param.Name, Shape: g.Param.Shape(), Value: g.Param.Value.Float32s(), Grad: g.Grad.Float32s(), Rows: g.Rows}
	}
	if err := t.Opt.Step(t.optParams, t.Sched.LR(t.Step)); err != nil {
		return 0, nil, err
	}
	t.Step++
	return loss, m.Output(), nil
}

// Fit trains for the configured number of epochs (continuing from t.Epoch
// after a resume), validating after each epoch when val is not nil.
//
// When ctx is done, Fit stops before the next batch and returns an error
// wrapping ctx.Err(). The epoch in progress is abandoned: t.Epoch and the
// run folder's checkpoints stay at the last complete epoch, which is what a
// resume continues from, giving the weights of an uninterrupted run; the
// parameters in memory are then mid-epoch and should not be saved.
func (t *Trainer) Fit(ctx context.Context, trainSet, val dataset.Dataset) error {
	if trainSet.Len() == 0 {
		return fmt.Errorf("the training set is empty")
	}
	cfg := t.Config
	steps := (trainSet.Len() + cfg.Batch - 1) / cfg.Batch
	if err := t.schedule(steps); err != nil {
		return err
	}
	if cfg.DP != nil {
		if err := t.prepareDP(trainSet.Len()); err != nil {
			return err
		}
		if t.Progress != nil {
			fmt.Fprintln(t.Progress, t.dpSummary(trainSet.Len()))
		}
	}
	var rep *progress.Reporter
	if t.Progress != nil {
		rep = progress.New(t.Progress, cfg.Epochs)
	}
	for t.Epoch < cfg.Epochs {
		start := time.Now()
		epoch := t.Epoch + 1
		acc := t.accumulator()
		if ea, ok := trainSet.(EpochAware); ok {
			ea.SetEpoch(epoch)
		}
		if rep != nil {
			rep.StartEpoch(epoch, trainSet.Len())
		}
		done := 0
		lr := t.Sched.LR(t.Step)
		order := batches(epochOrder(trainSet.Len(), cfg.Seed, epoch), cfg.Batch)
		for _, idx := range order {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("epoch %d interrupted: %w", epoch, err)
			}
			var loss float64
			if cfg.DP != nil { // a Poisson sample instead of idx (dp.go)
				n, err := 0, error(nil)
				if loss, n, err = t.dpStep(trainSet, acc); err != nil {
					return fmt.Errorf("epoch %d: %w", epoch, err)
				}
				done += n
			} else {
				l, out, err := t.TrainStep(trainSet, idx)
				if err != nil {
					return fmt.Errorf("epoch %d: %w", epoch, err)
				}
				b := t.bufs[len(idx)]
				if err := acc.Add(l, len(idx), probabilities(t.Model.Task(), out), b.targets.Float32s()); err != nil {
					return fmt.Errorf("epoch %d: %w", epoch, err)
				}
				loss = l
				done += len(idx)
			}
			if rep != nil {
				rep.Update(done, loss)
			}
			if t.Hooks.OnSteps != nil && t.Hooks.EveryN > 0 && t.Step%int64(t.Hooks.EveryN) == 0 {
				t.Hooks.OnSteps(t.Step, loss)
			}
		}
		named := acc.Result().Prefixed("train/")
		if val != nil && val.Len() > 0 {
			r, err := t.Evaluate(ctx, val)
			if err != nil {
				return fmt.Errorf("epoch %d: validation: %w", epoch, err)
			}
			named = append(named, r.Prefixed("val/")...)
		}
		named = append(named, metrics.Named{Name: "lr", Value: lr})
		if p, ok, err := t.Privacy(trainSet.Len()); ok {
			if err != nil {
				return fmt.Errorf("epoch %d: privacy accounting: %w", epoch, err)
			}
			if !math.IsInf(p.Epsilon, 0) {
				named = append(named, metrics.Named{Name: "epsilon", Value: p.Epsilon})
			}
		}
		t.Epoch = epoch
		elapsed := time.Since(start)
		record := append([]metrics.Named{{Name: "epoch", Value: float64(epoch)}}, named...)
		record = append(record, metrics.Named{Name: "time_s", Value: elapsed.Seconds()})
		if err := t.History.Append(record); err != nil {
			return err
		}
		monitor := cfg.Monitor
		if val == nil && strings.HasPrefix(monitor, "val/") {
			monitor = "train/" + strings.TrimPrefix(monitor, "val/") // no validation set: judge by training
		}
		monitored, ok := lookup(named, monitor)
		if !ok {
			return fmt.Errorf("the monitored metric %q is not among this epoch's metrics %v", cfg.Monitor, names(named))
		}
		improved, stop := t.Early.Observe(monitored)
		if obs, ok := t.Sched.(interface{ Observe(float64) }); ok {
			obs.Observe(monitored)
		}
		res := EpochResult{Epoch: epoch, Metrics: named, Best: improved, Duration: elapsed}
		if t.Saver != nil {
			dir, err := t.Saver.Save(t, improved)
			if err != nil {
				return fmt.Errorf("epoch %d: %w", epoch, err)
			}
			res.Checkpoint = dir
		}
		if rep != nil {
			rep.EndEpoch(display(named))
		}
		if t.Hooks.OnEpoch != nil {
			if err := t.Hooks.OnEpoch(res); err != nil {
				return err
			}
		}
		if stop && cfg.Patience > 0 {
			if t.Progress != nil {
				fmt.Fprintf(t.Progress, "early stopping: %s has not improved for %d epochs\n", cfg.Monitor, cfg.Patience)
			}
			break
		}
	}
	return nil
}

// display picks the metrics worth a column in the per-epoch line, as Keras
// prints loss and accuracy; the history keeps them all.
func display(ms []metrics.Named) []metrics.Named {
	var out []metrics.Named
	for _, m := range ms {
		switch m.Name {
		case "train/loss", "train/accuracy", "train/rmse", "val/loss", "val/accuracy", "val/f1", "val/rmse", "epsilon":
			out = append(out, m)
		}
	}
	return out
}

func lookup(ms []metrics.Named, name string) (float64, bool) {
	for _, m := range ms {
		if m.Name == name {
			return m.Value, true
		}
	}
	return 0, false
}

func names(ms []metrics.Named) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Name
	}
	return out
}

// Evaluate runs the inference machine over every example of ds, the last
// partial batch included, and returns the metrics of the model's task.
func (t *Trainer) Evaluate(ctx context.Context, ds dataset.Dataset) (metrics.Result, error) {
	acc := t.accumulator()
	return metrics.Evaluate(ctx, ds, t.Config.Batch, acc, t.forward(ds.Shapes()))
}

// forward runs one batch, given flat, on the inference machine of its
// size.
func (t *Trainer) forward(inShapes [][]int, targetShape []int) metrics.Forward {
	return func(_ context.Context, in [][]float32, y []float32, n int) ([]float32, float64, error) {
		inputs := make([]*tensor.Dense, len(in))
		for k, v := range in {
			inputs[k] = tensor.New(tensor.WithShape(append([]int{n}, inShapes[k]...)...), tensor.WithBacking(v))
		}
		targets := tensor.New(tensor.WithShape(append([]int{n}, targetShape...)...), tensor.WithBacking(y))
		return t.runEval(inputs, targets, n)
	}
}

// runEval runs one batch on the inference machine of its size.
func (t *Trainer) runEval(inputs []*tensor.Dense, targets *tensor.Dense, n int) ([]float32, float64, error) {
	m, err := t.Program.Machine(n, graph.Eval)
	if err != nil {
		return nil, 0, err
	}
	if err := m.Run(inputs, targets); err != nil {
		return nil, 0, err
	}
	return m.Output().Float32s(), m.Loss(), nil
}

func (t *Trainer) accumulator() *metrics.Accumulator {
	classes := 0
	if c, ok := t.Model.(Classifier); ok {
		classes = c.Classes()
	}
	return metrics.NewAccumulator(t.Model.Task(), classes)
}

// probabilities reads a batch's output tensor as metrics.Probabilities.
func probabilities(task metrics.Task, out *tensor.Dense) []float32 {
	s := out.Shape()
	return metrics.Probabilities(task, out.Float32s(), s[len(s)-1])
}
