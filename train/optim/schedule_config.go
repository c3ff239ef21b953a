package optim

import (
	"fmt"
	"math"
)

// Schedule names accepted in ScheduleConfig.Name.
const (
	ScheduleConstant    = "constant"
	ScheduleStep        = "step"
	ScheduleExponential = "exponential"
	ScheduleCosine      = "cosine"
	ScheduleLinear      = "linear"
	SchedulePlateau     = "plateau"
)

// ScheduleConfig describes a Schedule in the terms a command line or a
// meta.json uses. Lengths may be given in steps or in epochs (not both);
// NewSchedule converts epochs with its stepsPerEpoch. Zero fields take the
// defaults shown.
type ScheduleConfig struct {
	// Name is "constant" (default), "step", "exponential", "cosine",
	// "linear" or "plateau".
	Name string `json:"name,omitempty"`
	// LR is the base (initial, or peak for cosine) learning rate. Required.
	LR float64 `json:"lr"`

	// Gamma is the decay factor per period of step and exponential
	// (default 0.1 for step, as StepLR; required for exponential).
	Gamma float64 `json:"gamma,omitempty"`
	// EverySteps or EveryEpochs is their period (step: required, StepLR's
	// step_size in epochs; exponential: default 1 epoch, as ExponentialLR).
	EverySteps  int `json:"every_steps,omitempty"`
	EveryEpochs int `json:"every_epochs,omitempty"`

	// WarmupSteps or WarmupEpochs is cosine's and linear's warm-up
	// (default 0).
	WarmupSteps  int `json:"warmup_steps,omitempty"`
	WarmupEpochs int `json:"warmup_epochs,omitempty"`
	// WarmupRatio, instead, makes the warm-up that share of the total
	// steps, rounded up (Hugging Face's warmup_ratio); in [0, 1).
	WarmupRatio float64 `json:"warmup_ratio,omitempty"`
	// TotalSteps or TotalEpochs is where cosine reaches MinLR and linear
	// 0. Required.
	TotalSteps  int `json:"total_steps,omitempty"`
	TotalEpochs int `json:"total_epochs,omitempty"`
	// MinLR is cosine's final rate and plateau's floor (default 0).
	MinLR float64 `json:"min_lr,omitempty"`

	// Plateau settings; see PlateauConfig for their defaults.
	Mode          string  `json:"mode,omitempty"`
	Factor        float64 `json:"factor,omitempty"`
	Patience      int     `json:"patience,omitempty"`
	Threshold     float64 `json:"threshold,omitempty"`
	ThresholdMode string  `json:"threshold_mode,omitempty"`
	Cooldown      int     `json:"cooldown,omitempty"`
}

// NewSchedule builds the schedule cfg describes. stepsPerEpoch converts
// epoch-denominated lengths and must be > 0 when one is used. Errors name
// the field at fault.
func NewSchedule(cfg ScheduleConfig, stepsPerEpoch int) (Schedule, error) {
	if !(cfg.LR >= 0) || math.IsInf(cfg.LR, 1) {
		return nil, fmt.Errorf("optim: schedule field lr = %v: want a finite value ≥ 0", cfg.LR)
	}
	if !(cfg.MinLR >= 0) || math.IsInf(cfg.MinLR, 1) {
		return nil, fmt.Errorf("optim: schedule field min_lr = %v: want a finite value ≥ 0", cfg.MinLR)
	}
	steps := func(field string, n, epochs int) (int64, error) {
		switch {
		case n < 0 || epochs < 0:
			return 0, fmt.Errorf("optim: schedule field %s: negative length", field)
		case n > 0 && epochs > 0:
			return 0, fmt.Errorf("optim: schedule field %s: give it in steps or in epochs, not both", field)
		case epochs > 0 && stepsPerEpoch <= 0:
			return 0, fmt.Errorf("optim: schedule field %s_epochs: needs steps per epoch > 0, have %d", field, stepsPerEpoch)
		case epochs > 0:
			return int64(epochs) * int64(stepsPerEpoch), nil
		}
		return int64(n), nil
	}
	unused := func(fields map[string]bool) error {
		for _, f := range []string{"gamma", "every", "warmup", "total", "min_lr", "plateau"} {
			if fields[f] {
				return fmt.Errorf("optim: schedule field %s is set but schedule %q does not use it", f, cfg.Name)
			}
		}
		return nil
	}
	set := map[string]bool{
		"gamma":   cfg.Gamma != 0,
		"every":   cfg.EverySteps != 0 || cfg.EveryEpochs != 0,
		"warmup":  cfg.WarmupSteps != 0 || cfg.WarmupEpochs != 0 || cfg.WarmupRatio != 0,
		"total":   cfg.TotalSteps != 0 || cfg.TotalEpochs != 0,
		"min_lr":  cfg.MinLR != 0,
		"plateau": cfg.Mode != "" || cfg.Factor != 0 || cfg.Patience != 0 || cfg.Threshold != 0 || cfg.ThresholdMode != "" || cfg.Cooldown != 0,
	}
	switch cfg.Name {
	case "", ScheduleConstant:
		if err := unused(set); err != nil {
			return nil, err
		}
		return Constant{Base: cfg.LR}, nil

	case ScheduleStep, ScheduleExponential:
		delete(set, "gamma")
		delete(set, "every")
		if err := unused(set); err != nil {
			return nil, err
		}
		every, err := steps("every", cfg.EverySteps, cfg.EveryEpochs)
		if err != nil {
			return nil, err
		}
		gamma := cfg.Gamma
		if cfg.Name == ScheduleStep {
			gamma = orDefault(gamma, 0.1)
			if every == 0 {
				return nil, fmt.Errorf("optim: schedule field every_steps or every_epochs: required for %q", cfg.Name)
			}
		} else if every == 0 {
			if stepsPerEpoch <= 0 {
				return nil, fmt.Errorf("optim: schedule %q decays per epoch by default: needs steps per epoch > 0, have %d", cfg.Name, stepsPerEpoch)
			}
			every = int64(stepsPerEpoch)
		}
		if !(gamma > 0 && gamma <= 1) {
			return nil, fmt.Errorf("optim: schedule field gamma = %v: want a value in (0, 1]", gamma)
		}
		if cfg.Name == ScheduleStep {
			return StepDecay{Base: cfg.LR, Gamma: gamma, Every: every}, nil
		}
		return Exponential{Base: cfg.LR, Gamma: gamma, Every: every}, nil

	case ScheduleCosine:
		delete(set, "warmup")
		delete(set, "total")
		delete(set, "min_lr")
		if err := unused(set); err != nil {
			return nil, err
		}
		warmup, total, err := warmupTotal(cfg, steps)
		if err != nil {
			return nil, err
		}
		if cfg.MinLR > cfg.LR {
			return nil, fmt.Errorf("optim: schedule field min_lr = %v: want ≤ lr %v", cfg.MinLR, cfg.LR)
		}
		return Cosine{Base: cfg.LR, Min: cfg.MinLR, WarmupSteps: warmup, TotalSteps: total}, nil

	case ScheduleLinear:
		delete(set, "warmup")
		delete(set, "total")
		if err := unused(set); err != nil {
			return nil, err
		}
		warmup, total, err := warmupTotal(cfg, steps)
		if err != nil {
			return nil, err
		}
		return Linear{Base: cfg.LR, WarmupSteps: warmup, TotalSteps: total}, nil

	case SchedulePlateau:
		delete(set, "plateau")
		delete(set, "min_lr")
		if err := unused(set); err != nil {
			return nil, err
		}
		return NewReduceOnPlateau(cfg.LR, PlateauConfig{
			Mode: cfg.Mode, Factor: cfg.Factor, Patience: cfg.Patience, Threshold: cfg.Threshold,
			ThresholdMode: cfg.ThresholdMode, Cooldown: cfg.Cooldown, MinLR: cfg.MinLR,
		})
	}
	return nil, fmt.Errorf("optim: schedule field name: unknown schedule %q: want constant, step, exponential, cosine, linear or plateau", cfg.Name)
}

// warmupTotal resolves a warm-up (in steps, epochs or as a ratio of the
// total) and a total length, in steps, with at least one step after the
// warm-up.
func warmupTotal(cfg ScheduleConfig, steps func(field string, n, epochs int) (int64, error)) (warmup, total int64, err error) {
	if warmup, err = steps("warmup", cfg.WarmupSteps, cfg.WarmupEpochs); err != nil {
		return 0, 0, err
	}
	if total, err = steps("total", cfg.TotalSteps, cfg.TotalEpochs); err != nil {
		return 0, 0, err
	}
	if r := cfg.WarmupRatio; r != 0 {
		if !(r > 0 && r < 1) || warmup != 0 {
			return 0, 0, fmt.Errorf("optim: schedule field warmup_ratio = %v: want a share in [0, 1), without warmup_steps or warmup_epochs", r)
		}
		// A share of a very short run (one step, or a few) would round up
		// to all of it and leave no step after the warm-up; it keeps one.
		warmup = min(int64(math.Ceil(r*float64(total))), max(total-1, 0))
	}
	if total <= warmup {
		return 0, 0, fmt.Errorf("optim: schedule field total_steps/total_epochs = %d steps: want more than the %d warm-up steps", total, warmup)
	}
	return warmup, total, nil
}
