package checkpoint

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/tapeml/tapeml/safetensors"
)

// FormatVersion is the checkpoint layout this package writes and the newest
// it reads. Bump it when a change would make an older reader misinterpret a
// checkpoint.
const FormatVersion = 1

// Names of the files every checkpoint has.
const (
	MetaFile      = "meta.json"
	WeightsFile   = "model.safetensors"
	OptimizerFile = "optimizer.safetensors"
)

// Checkpoint is a checkpoint in memory.
type Checkpoint struct {
	Meta Meta
	// Weights are the model's parameters and buffers under PyTorch
	// state_dict names, in state_dict order.
	Weights []safetensors.Tensor
	// Optimizer holds the optimizer's per-parameter slots (Adam's exp_avg,
	// ...). It must be empty when Meta.WeightsOnly is set.
	Optimizer []safetensors.Tensor
	// Extra files stored next to the others, by file name (history.csv).
	Extra map[string][]byte
	// Dir is the directory Load read the checkpoint from; Save ignores it.
	Dir string
	// Source is the file ReadSafetensors read the checkpoint from.
	Source string
}

// Meta is meta.json. The json.RawMessage fields belong to the packages that
// own the state (model, tokenizer, optimizer, schedule, trainer); this
// package stores them verbatim and only checks they are valid JSON.
type Meta struct {
	// FormatVersion is set by Save to FormatVersion.
	FormatVersion int `json:"format_version"`
	// ModelKind names the architecture ("textcnn"); required.
	ModelKind string `json:"model_kind"`
	// ModelConfig is the architecture's config, enough to rebuild it.
	ModelConfig json.RawMessage `json:"model_config,omitempty"`
	// Preprocessing is the input pipeline's fitted state (tokenizer
	// vocabulary, maxlen, normalization statistics).
	Preprocessing json.RawMessage `json:"preprocessing,omitempty"`
	// Epoch is the number of completed epochs.
	Epoch int `json:"epoch"`
	// Step is the number of optimizer steps taken.
	Step int64 `json:"step"`
	// RNG is the random state training resumes from.
	RNG RNGState `json:"rng"`
	// Optimizer holds the optimizer's settings (kind, learning rate, betas).
	Optimizer json.RawMessage `json:"optimizer,omitempty"`
	// OptimizerState holds the optimizer's scalar state (Adam's step count);
	// its tensors are in optimizer.safetensors.
	OptimizerState json.RawMessage `json:"optimizer_state,omitempty"`
	// Schedule holds the learning-rate schedule's settings.
	Schedule json.RawMessage `json:"schedule,omitempty"`
	// ScheduleState holds the schedule's state (ReduceLROnPlateau's counters).
	ScheduleState json.RawMessage `json:"schedule_state,omitempty"`
	// History holds the per-epoch metrics so far.
	History json.RawMessage `json:"history,omitempty"`
	// WeightsOnly marks a checkpoint without optimizer state: usable for
	// evaluation, prediction and initialization, not for resuming.
	WeightsOnly bool `json:"weights_only"`
	// Privacy is what differentially private training spent (σ, C, q,
	// steps, δ, ε), for DP runs only.
	Privacy json.RawMessage `json:"privacy,omitempty"`
	// Best is the best validation metric seen so far, if one is tracked.
	Best *BestMetric `json:"best,omitempty"`
	// Init is the checkpoint whose weights the run started from (train
	// --init), an absolute path; resumed runs keep it. A model card's
	// parent version is found from it.
	Init string `json:"init,omitempty"`
	// Files lists every file but meta.json with its checksum; set by Save.
	Files map[string]FileSum `json:"files"`
}

// InsecureDPNoise reports whether the model was trained with DP-SGD whose
// sampling and noise can be regenerated from what the checkpoint records
// (train.DPConfig's InsecureSeededNoise, and every DP run of tapeml before
// privacy recorded its noise source as "noise_rng"): its (ε, δ) does not
// hold against whoever holds the checkpoint.
func (m Meta) InsecureDPNoise() bool {
	if len(m.Privacy) > 0 {
		var p struct {
			NoiseRNG string `json:"noise_rng"`
		}
		return json.Unmarshal(m.Privacy, &p) != nil || p.NoiseRNG != "crypto"
	}
	// A file exported before privacy was: DP training left only its
	// configuration, and was seeded.
	var tc struct {
		DP json.RawMessage `json:"dp"`
	}
	return json.Unmarshal(m.Optimizer, &tc) == nil && len(tc.DP) > 0 && string(tc.DP) != "null"
}

// RNGState is the random state of a training run: the seed it started from
// and whatever the trainer needs to continue the streams (counters, draws).
type RNGState struct {
	Seed  int64           `json:"seed"`
	State json.RawMessage `json:"state,omitempty"`
}

// BestMetric records the best value of the monitored metric.
type BestMetric struct {
	Metric string  `json:"metric"` // e.g. "val_loss"
	Mode   string  `json:"mode"`   // "min" or "max"
	Value  float64 `json:"value"`
	Epoch  int     `json:"epoch"` // the epoch that reached it
}

// FileSum is a file's size in bytes and lowercase hex sha256.
type FileSum struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// validate checks what Save needs before it writes anything.
func (c *Checkpoint) validate() error {
	m := &c.Meta
	if m.ModelKind == "" {
		return fmt.Errorf("meta.model_kind is empty")
	}
	if m.Epoch < 0 || m.Step < 0 {
		return fmt.Errorf("meta.epoch %d and meta.step %d must not be negative", m.Epoch, m.Step)
	}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
	}{
		{"model_config", m.ModelConfig}, {"preprocessing", m.Preprocessing},
		{"rng.state", m.RNG.State}, {"optimizer", m.Optimizer},
		{"optimizer_state", m.OptimizerState}, {"schedule", m.Schedule},
		{"schedule_state", m.ScheduleState}, {"history", m.History},
	} {
		if len(f.raw) > 0 && !json.Valid(f.raw) {
			return fmt.Errorf("meta.%s is not valid JSON: %.40q", f.name, f.raw)
		}
	}
	if b := m.Best; b != nil {
		if math.IsNaN(b.Value) || math.IsInf(b.Value, 0) {
			return fmt.Errorf("meta.best.value is %v; JSON cannot store it", b.Value)
		}
		if b.Mode != "min" && b.Mode != "max" {
			return fmt.Errorf("meta.best.mode is %q, want \"min\" or \"max\"", b.Mode)
		}
	}
	if m.WeightsOnly && len(c.Optimizer) > 0 {
		return fmt.Errorf("checkpoint is weights-only but has %d optimizer tensors", len(c.Optimizer))
	}
	for name := range c.Extra {
		if err := checkFileName(name); err != nil {
			return fmt.Errorf("extra file: %w", err)
		}
		if name == MetaFile || name == WeightsFile || name == OptimizerFile {
			return fmt.Errorf("extra file %q would overwrite the checkpoint's own", name)
		}
	}
	return nil
}

// checkFileName accepts plain file names only, so neither Save nor Load
// can be steered outside the checkpoint directory.
func checkFileName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return fmt.Errorf("%q is not a plain file name (no separators, no leading dot)", name)
	}
	return nil
}
