package train

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/tapeml/tapeml/charts"
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/train/optim"
)

// RunInfo is what a checkpoint needs that the trainer does not know: the
// model kind, its configuration and its preprocessing state, each saved as
// JSON in meta.json.
type RunInfo struct {
	Kind          string
	Config        any
	Preprocessing any
	Init          string // checkpoint.Meta.Init
}

// Saver writes a checkpoint after every epoch into a run folder, keeping the
// last Keep epochs and the best.
type Saver struct {
	Dir   checkpoint.Dir
	Info  RunInfo
	Extra map[string][]byte // more files written into every checkpoint (training data a recommender needs, …)
}

// Save writes the trainer's current state as the checkpoint of its epoch.
func (s *Saver) Save(t *Trainer, isBest bool) (string, error) {
	c, err := Snapshot(t, s.Info, false)
	if err != nil {
		return "", err
	}
	for name, b := range s.Extra {
		c.Extra[name] = b
	}
	return s.Dir.Save(c, t.Epoch, isBest)
}

// loopState is the trainer's own resumable state, saved in meta.json's
// schedule_state.
type loopState struct {
	Plateau       *optim.PlateauState    `json:"plateau,omitempty"`
	EarlyStopping *metrics.EarlyStopping `json:"early_stopping"`
}

type rngState struct {
	Epoch int   `json:"epoch"` // shuffling is a pure function of (seed, epoch)
	Step  int64 `json:"step"`  // dropout is a pure function of (seed, step)
}

// Snapshot captures the trainer as a checkpoint: weights, optimizer slots,
// counters, schedule and early-stopping state, history, and the history's
// CSV and PNG plot as extra files. weightsOnly leaves out what resuming needs.
func Snapshot(t *Trainer, info RunInfo, weightsOnly bool) (*checkpoint.Checkpoint, error) {
	mustJSON := func(v any) (json.RawMessage, error) {
		if v == nil {
			return nil, nil
		}
		return json.Marshal(v)
	}
	var err error
	c := &checkpoint.Checkpoint{Weights: checkpoint.Weights(t.Program.Params()), Extra: map[string][]byte{}}
	m := &c.Meta
	m.ModelKind, m.Init = info.Kind, info.Init
	m.Epoch, m.Step = t.Epoch, t.Step
	m.WeightsOnly = weightsOnly
	if m.ModelConfig, err = mustJSON(info.Config); err != nil {
		return nil, fmt.Errorf("checkpoint: model config: %w", err)
	}
	if m.Preprocessing, err = mustJSON(info.Preprocessing); err != nil {
		return nil, fmt.Errorf("checkpoint: preprocessing: %w", err)
	}
	if m.History, err = mustJSON(t.History); err != nil {
		return nil, fmt.Errorf("checkpoint: history: %w", err)
	}
	if m.Optimizer, err = mustJSON(t.Config); err != nil {
		return nil, err
	}
	m.RNG.Seed = int64(t.Config.Seed)
	if m.RNG.State, err = mustJSON(rngState{Epoch: t.Epoch, Step: t.Step}); err != nil {
		return nil, err
	}
	if t.dp != nil {
		p, _, err := t.Privacy(t.dp.n)
		if err != nil {
			return nil, fmt.Errorf("checkpoint: privacy: %w", err)
		}
		if m.Privacy, err = json.Marshal(p); err != nil {
			return nil, fmt.Errorf("checkpoint: privacy: %w", err)
		}
	}
	if v, epoch, ok := t.Early.Best(); ok {
		m.Best = &checkpoint.BestMetric{Metric: t.Config.Monitor, Mode: string(t.Early.Mode), Value: v, Epoch: epoch}
	}
	var csv bytes.Buffer
	if err := t.History.WriteCSV(&csv); err != nil {
		return nil, err
	}
	c.Extra["history.csv"] = csv.Bytes()
	if t.History.Len() > 0 {
		var png bytes.Buffer
		if err := t.HistoryFigure(info.Kind).Write(&png, charts.PNG); err != nil {
			return nil, err
		}
		c.Extra["history.png"] = png.Bytes()
	}
	if weightsOnly {
		return c, nil
	}
	st := t.Opt.State()
	if m.OptimizerState, err = mustJSON(map[string]int64{"step": st.Step}); err != nil {
		return nil, err
	}
	slots := make([]string, 0, len(st.Slots))
	for k := range st.Slots {
		slots = append(slots, k)
	}
	sort.Strings(slots)
	c.Optimizer = []safetensors.Tensor{}
	for _, k := range slots {
		c.Optimizer = append(c.Optimizer, safetensors.F32(k, st.Shapes[k], st.Slots[k]))
	}
	if m.Schedule, err = mustJSON(t.Config.Schedule); err != nil {
		return nil, err
	}
	ls := loopState{EarlyStopping: t.Early}
	if p, ok := t.Sched.(*optim.ReduceOnPlateau); ok {
		s := p.State()
		ls.Plateau = &s
	}
	if m.ScheduleState, err = mustJSON(ls); err != nil {
		return nil, err
	}
	return c, nil
}

// HistoryFigure draws the trainer's history so far (charts.History), its
// best epoch marked, titled with the model's name.
func (t *Trainer) HistoryFigure(model string) *charts.Figure {
	o := charts.HistoryOptions{Title: model, Monitor: t.Config.Monitor}
	if !slices.Contains(t.History.Columns(), o.Monitor) && strings.HasPrefix(o.Monitor, "val/") {
		o.Monitor = "train/" + strings.TrimPrefix(o.Monitor, "val/") // judged by training (Fit)
	}
	if _, epoch, ok := t.Early.Best(); ok {
		o.BestEpoch = epoch
	}
	return charts.History(t.History, o)
}

// Resume restores a trainer from a full checkpoint so that Fit continues
// exactly where it stopped. The trainer must have been made with the
// checkpoint's model and configuration (see ConfigOf).
func (t *Trainer) Resume(c *checkpoint.Checkpoint) error {
	if err := c.CanResume(); err != nil {
		return err
	}
	if err := checkpoint.LoadWeights(t.Program.Params(), c.Weights, c.Dir+"/"+checkpoint.WeightsFile); err != nil {
		return err
	}
	m := c.Meta
	var opt struct {
		Step int64 `json:"step"`
	}
	if err := json.Unmarshal(m.OptimizerState, &opt); err != nil {
		return fmt.Errorf("%s/meta.json: optimizer_state: %w", c.Dir, err)
	}
	st := optim.State{Step: opt.Step, Slots: map[string][]float32{}, Shapes: map[string][]int{}}
	for _, s := range c.Optimizer {
		v, err := s.Float32s()
		if err != nil {
			return fmt.Errorf("%s/%s: %w", c.Dir, checkpoint.OptimizerFile, err)
		}
		st.Slots[s.Name], st.Shapes[s.Name] = v, s.Shape
	}
	if err := t.Opt.SetState(st); err != nil {
		return fmt.Errorf("%s/%s: %w", c.Dir, checkpoint.OptimizerFile, err)
	}
	h := &metrics.History{}
	if len(m.History) > 0 {
		if err := json.Unmarshal(m.History, h); err != nil {
			return fmt.Errorf("%s/meta.json: history: %w", c.Dir, err)
		}
		// One row per completed epoch, or the resumed history would
		// repeat or skip epochs.
		if h.Len() != m.Epoch {
			return fmt.Errorf("%s/meta.json: history holds %d epochs, but epoch is %d", c.Dir, h.Len(), m.Epoch)
		}
	}
	ls := loopState{EarlyStopping: &metrics.EarlyStopping{}}
	if err := json.Unmarshal(m.ScheduleState, &ls); err != nil {
		return fmt.Errorf("%s/meta.json: schedule_state: %w", c.Dir, err)
	}
	if len(m.Privacy) > 0 {
		var p Privacy
		if err := json.Unmarshal(m.Privacy, &p); err != nil {
			return fmt.Errorf("%s/meta.json: privacy: %w", c.Dir, err)
		}
		// Steps already taken with seeded noise stay replayable: the run
		// keeps saying so whatever its next steps draw from.
		t.dpSeeded = !p.Secure()
	}
	t.History, t.Early = h, ls.EarlyStopping
	t.Epoch, t.Step = m.Epoch, m.Step
	t.pendingPlateau = ls.Plateau
	return nil
}

// ConfigOf reads the training configuration a checkpoint was made with.
// A checkpoint that has none (weights imported from elsewhere) gets the
// zero Config, whose Defaults apply.
func ConfigOf(c *checkpoint.Checkpoint) (Config, error) {
	var cfg Config
	if len(c.Meta.Optimizer) == 0 && c.Meta.WeightsOnly {
		return cfg, nil
	}
	if err := json.Unmarshal(c.Meta.Optimizer, &cfg); err != nil {
		return cfg, fmt.Errorf("%s/meta.json: optimizer (training configuration): %w", c.Dir, err)
	}
	return cfg, nil
}
