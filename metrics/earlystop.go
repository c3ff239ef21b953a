package metrics

import (
	"encoding/json"
	"fmt"
	"math"
)

// EarlyStopping stops training once the monitored metric has not improved
// for Patience epochs in a row, with Keras' EarlyStopping semantics. Set
// the exported fields, then call Observe once per epoch; its state marshals
// to JSON with the configuration so a resumed run stops where the
// uninterrupted one would have.
type EarlyStopping struct {
	// Monitor names the watched metric, e.g. "val/loss". Required.
	Monitor string
	// Mode is Min (the default when empty) or Max.
	Mode Mode
	// Patience is how many epochs in a row without improvement end
	// training; 0 and 1 both stop at the first one, as in Keras and
	// Lightning. Default 0.
	Patience int
	// MinDelta is the smallest change that counts as an improvement,
	// ≥ 0. Default 0: any strict improvement counts.
	MinDelta float64

	observed  int     // epochs observed
	best      float64 // valid when bestEpoch > 0
	bestEpoch int     // 1-based observation of best, 0 before any finite value
	wait      int     // epochs since the last improvement
	stopped   bool
}

// Validate checks the configuration.
func (e *EarlyStopping) Validate() error {
	if e.Monitor == "" {
		return fmt.Errorf("early stopping: Monitor is empty, expected a metric name such as \"val/loss\"")
	}
	if e.Mode != "" {
		if err := e.Mode.Validate(); err != nil {
			return fmt.Errorf("early stopping: %w", err)
		}
	}
	if e.Patience < 0 {
		return fmt.Errorf("early stopping: Patience is %d, expected ≥ 0", e.Patience)
	}
	if !(e.MinDelta >= 0) || math.IsInf(e.MinDelta, 1) {
		return fmt.Errorf("early stopping: MinDelta is %g, expected a finite value ≥ 0", e.MinDelta)
	}
	return nil
}

func (e *EarlyStopping) mode() Mode {
	if e.Mode == "" {
		return Min
	}
	return e.Mode
}

// Observe records the monitored value of one epoch. improved is true when
// it beats the best so far by more than MinDelta (the first finite value
// always does); stop is true once Patience epochs in a row (at least one)
// have not improved, and stays true. NaN and infinite values never improve. Calling Observe with an
// invalid configuration is a programmer error (call Validate first) and
// panics.
func (e *EarlyStopping) Observe(value float64) (improved, stop bool) {
	if err := e.Validate(); err != nil {
		panic(err)
	}
	e.observed++
	finite := !math.IsNaN(value) && !math.IsInf(value, 0)
	switch {
	case !finite:
	case e.bestEpoch == 0:
		improved = true
	case e.mode() == Min:
		improved = value < e.best-e.MinDelta
	default:
		improved = value > e.best+e.MinDelta
	}
	if improved {
		e.best, e.bestEpoch, e.wait = value, e.observed, 0
		return true, e.stopped
	}
	e.wait++
	if e.wait >= e.Patience {
		e.stopped = true
	}
	return false, e.stopped
}

// Best is the best value observed and the (1-based) call of Observe that
// saw it; ok is false before the first finite value.
func (e *EarlyStopping) Best() (value float64, epoch int, ok bool) {
	if e.bestEpoch == 0 {
		return math.NaN(), 0, false
	}
	return e.best, e.bestEpoch, true
}

// Wait is the number of epochs since the last improvement.
func (e *EarlyStopping) Wait() int { return e.wait }

// Stopped reports whether Observe has asked to stop.
func (e *EarlyStopping) Stopped() bool { return e.stopped }

// earlyStoppingJSON is the checkpointed form; Best is null until a finite
// value was observed, since JSON has no infinities.
type earlyStoppingJSON struct {
	Monitor   string   `json:"monitor"`
	Mode      Mode     `json:"mode"`
	Patience  int      `json:"patience"`
	MinDelta  float64  `json:"min_delta"`
	Observed  int      `json:"observed"`
	Best      *float64 `json:"best"`
	BestEpoch int      `json:"best_epoch"`
	Wait      int      `json:"wait"`
	Stopped   bool     `json:"stopped"`
}

// MarshalJSON writes the configuration and the state.
func (e *EarlyStopping) MarshalJSON() ([]byte, error) {
	out := earlyStoppingJSON{
		Monitor: e.Monitor, Mode: e.mode(), Patience: e.Patience, MinDelta: e.MinDelta,
		Observed: e.observed, BestEpoch: e.bestEpoch, Wait: e.wait, Stopped: e.stopped,
	}
	if e.bestEpoch > 0 {
		best := e.best
		out.Best = &best
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON writes and checks that configuration
// and state are consistent.
func (e *EarlyStopping) UnmarshalJSON(data []byte) error {
	var in earlyStoppingJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return fmt.Errorf("early stopping: %w", err)
	}
	out := EarlyStopping{
		Monitor: in.Monitor, Mode: in.Mode, Patience: in.Patience, MinDelta: in.MinDelta,
		observed: in.Observed, bestEpoch: in.BestEpoch, wait: in.Wait, stopped: in.Stopped,
	}
	if err := out.Validate(); err != nil {
		return err
	}
	switch {
	case in.Observed < 0 || in.Wait < 0 || in.Wait > in.Observed:
		return fmt.Errorf("early stopping: observed %d and wait %d, expected 0 ≤ wait ≤ observed", in.Observed, in.Wait)
	case (in.Best == nil) != (in.BestEpoch == 0):
		return fmt.Errorf("early stopping: best and best_epoch must be both set or both unset")
	case in.BestEpoch < 0 || in.BestEpoch > in.Observed:
		return fmt.Errorf("early stopping: best_epoch %d, expected 1..observed (%d)", in.BestEpoch, in.Observed)
	}
	if in.Best != nil {
		out.best = *in.Best
	}
	*e = out
	return nil
}
