package optim

import (
	"fmt"
	"math"
)

// PlateauConfig holds ReduceOnPlateau's settings, torch's
// ReduceLROnPlateau arguments. Zero fields take the defaults shown, so
// Patience cannot be 0 (Patience 1 is the smallest) and Threshold cannot be
// exactly 0 (a tiny value such as 1e-300 means "any strict improvement").
type PlateauConfig struct {
	Mode          string  // "min" (default): lower is better; "max": higher is better
	Factor        float64 // multiplies the rate on a plateau; in (0, 1) (default 0.1)
	Patience      int     // epochs without improvement tolerated before reducing (default 10)
	Threshold     float64 // smallest improvement that counts (default 1e-4)
	ThresholdMode string  // "rel" (default): relative to the best; "abs": absolute
	Cooldown      int     // epochs to wait after a reduction before counting again (default 0)
	MinLR         float64 // the rate never goes below this (default 0)
	Eps           float64 // reductions smaller than this are skipped (default 1e-8)
}

// Defaults of PlateauConfig, as in PyTorch.
const (
	DefaultPlateauFactor    = 0.1
	DefaultPlateauPatience  = 10
	DefaultPlateauThreshold = 1e-4
	DefaultPlateauEps       = 1e-8
)

// PlateauState is ReduceOnPlateau's saveable state; it encodes to JSON.
type PlateauState struct {
	LR              float64  `json:"lr"`               // current learning rate
	Best            *float64 `json:"best"`             // best metric so far; nil before any finite metric
	NumBadEpochs    int      `json:"num_bad_epochs"`   // epochs since the best, outside cooldown
	CooldownCounter int      `json:"cooldown_counter"` // epochs of cooldown left
	Epochs          int      `json:"epochs"`           // metrics observed (torch's last_epoch)
}

// ReduceOnPlateau is torch.optim.lr_scheduler.ReduceLROnPlateau: it
// multiplies the learning rate by Factor when the metric given to Observe
// (once per epoch) has not improved for more than Patience epochs. Its LR
// ignores the step and returns the current rate.
//
// One deliberate difference: a non-finite metric (NaN, ±Inf) always counts
// as a bad epoch, whereas PyTorch would let −Inf (in "min" mode) become the
// best value forever.
type ReduceOnPlateau struct {
	cfg PlateauConfig
	st  PlateauState
}

// NewReduceOnPlateau starts at rate base; errors name the bad field.
func NewReduceOnPlateau(base float64, cfg PlateauConfig) (*ReduceOnPlateau, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if !(base >= 0) || math.IsInf(base, 1) {
		return nil, fmt.Errorf("optim: plateau: learning rate %v: want a finite value ≥ 0", base)
	}
	return &ReduceOnPlateau{cfg: cfg, st: PlateauState{LR: base}}, nil
}

func (c PlateauConfig) withDefaults() (PlateauConfig, error) {
	if c.Mode == "" {
		c.Mode = "min"
	}
	if c.ThresholdMode == "" {
		c.ThresholdMode = "rel"
	}
	c.Factor = orDefault(c.Factor, DefaultPlateauFactor)
	if c.Patience == 0 {
		c.Patience = DefaultPlateauPatience
	}
	c.Threshold = orDefault(c.Threshold, DefaultPlateauThreshold)
	c.Eps = orDefault(c.Eps, DefaultPlateauEps)
	switch {
	case c.Mode != "min" && c.Mode != "max":
		return c, fmt.Errorf("optim: plateau field mode %q: want \"min\" or \"max\"", c.Mode)
	case c.ThresholdMode != "rel" && c.ThresholdMode != "abs":
		return c, fmt.Errorf("optim: plateau field threshold_mode %q: want \"rel\" or \"abs\"", c.ThresholdMode)
	case !(c.Factor > 0 && c.Factor < 1):
		return c, fmt.Errorf("optim: plateau field factor = %v: want a value in (0, 1)", c.Factor)
	case c.Patience < 0:
		return c, fmt.Errorf("optim: plateau field patience = %d: want ≥ 0", c.Patience)
	case !(c.Threshold >= 0) || math.IsInf(c.Threshold, 1):
		return c, fmt.Errorf("optim: plateau field threshold = %v: want a finite value ≥ 0", c.Threshold)
	case c.Cooldown < 0:
		return c, fmt.Errorf("optim: plateau field cooldown = %d: want ≥ 0", c.Cooldown)
	case !(c.MinLR >= 0) || math.IsInf(c.MinLR, 1):
		return c, fmt.Errorf("optim: plateau field min_lr = %v: want a finite value ≥ 0", c.MinLR)
	case !(c.Eps >= 0) || math.IsInf(c.Eps, 1):
		return c, fmt.Errorf("optim: plateau field eps = %v: want a finite value ≥ 0", c.Eps)
	}
	return c, nil
}

// LR returns the current rate, whatever the step.
func (p *ReduceOnPlateau) LR(int64) float64 { return p.st.LR }

// Observe records one epoch's metric and reduces the rate if it has
// plateaued; it returns whether it did.
func (p *ReduceOnPlateau) Observe(metric float64) (reduced bool) {
	st := &p.st
	st.Epochs++
	if p.better(metric) {
		b := metric
		st.Best = &b
		st.NumBadEpochs = 0
	} else {
		st.NumBadEpochs++
	}
	if st.CooldownCounter > 0 {
		st.CooldownCounter--
		st.NumBadEpochs = 0 // bad epochs during cooldown do not count
	}
	if st.NumBadEpochs > p.cfg.Patience {
		next := max(st.LR*p.cfg.Factor, p.cfg.MinLR)
		if st.LR-next > p.cfg.Eps {
			st.LR = next
			reduced = true
		}
		st.CooldownCounter = p.cfg.Cooldown
		st.NumBadEpochs = 0
	}
	return reduced
}

// better is torch's is_better, with a missing best standing for ±Inf.
func (p *ReduceOnPlateau) better(a float64) bool {
	if math.IsNaN(a) || math.IsInf(a, 0) {
		return false
	}
	if p.st.Best == nil {
		return true
	}
	best := *p.st.Best
	switch {
	case p.cfg.Mode == "min" && p.cfg.ThresholdMode == "rel":
		return a < best*(1-p.cfg.Threshold)
	case p.cfg.Mode == "min":
		return a < best-p.cfg.Threshold
	case p.cfg.ThresholdMode == "rel":
		return a > best*(p.cfg.Threshold+1)
	default:
		return a > best+p.cfg.Threshold
	}
}

// State returns a copy of the state, for a checkpoint.
func (p *ReduceOnPlateau) State() PlateauState {
	s := p.st
	if s.Best != nil {
		b := *s.Best
		s.Best = &b
	}
	return s
}

// SetState restores a state returned by State; errors name the bad field.
func (p *ReduceOnPlateau) SetState(s PlateauState) error {
	switch {
	case !(s.LR >= 0) || math.IsInf(s.LR, 1):
		return fmt.Errorf("optim: plateau state field lr = %v: want a finite value ≥ 0", s.LR)
	case s.Best != nil && (math.IsNaN(*s.Best) || math.IsInf(*s.Best, 0)):
		return fmt.Errorf("optim: plateau state field best = %v: want a finite value or null", *s.Best)
	case s.NumBadEpochs < 0:
		return fmt.Errorf("optim: plateau state field num_bad_epochs = %d: want ≥ 0", s.NumBadEpochs)
	case s.CooldownCounter < 0:
		return fmt.Errorf("optim: plateau state field cooldown_counter = %d: want ≥ 0", s.CooldownCounter)
	case s.Epochs < 0:
		return fmt.Errorf("optim: plateau state field epochs = %d: want ≥ 0", s.Epochs)
	}
	if s.Best != nil {
		b := *s.Best
		s.Best = &b
	}
	p.st = s
	return nil
}
