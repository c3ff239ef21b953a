package optim

import "math"

// Schedule gives the learning rate for the next update.
type Schedule interface {
	// LR is the learning rate for the update that follows step updates
	// (0-based: LR(0) is the rate of the first update).
	LR(step int64) float64
}

// Constant is a fixed learning rate.
type Constant struct {
	Base float64 // the learning rate
}

func (c Constant) LR(int64) float64 { return c.Base }

// StepDecay multiplies the rate by Gamma every Every steps:
// Base·Gamma^⌊step/Every⌋. With Every = step_size·steps-per-epoch it is
// torch.optim.lr_scheduler.StepLR stepped once per epoch.
type StepDecay struct {
	Base  float64 // initial learning rate
	Gamma float64 // factor per period, e.g. 0.1
	Every int64   // period in steps; ≤ 0 means no decay
}

func (s StepDecay) LR(step int64) float64 {
	if s.Every <= 0 || step <= 0 {
		return s.Base
	}
	return s.Base * math.Pow(s.Gamma, float64(step/s.Every))
}

// Exponential decays the rate smoothly by Gamma per Every steps:
// Base·Gamma^(step/Every). At multiples of Every it equals
// torch.optim.lr_scheduler.ExponentialLR (with Every = steps per epoch);
// within an epoch it keeps decaying instead of holding the epoch's rate. Use
// StepDecay with the same Every for PyTorch's staircase.
type Exponential struct {
	Base  float64 // initial learning rate
	Gamma float64 // factor per period, e.g. 0.95
	Every int64   // period in steps; ≤ 0 means no decay
}

func (e Exponential) LR(step int64) float64 {
	if e.Every <= 0 || step <= 0 {
		return e.Base
	}
	return e.Base * math.Pow(e.Gamma, float64(step)/float64(e.Every))
}

// Cosine is nanoGPT's get_lr: a linear warm-up to Base over WarmupSteps
// steps, Base·(step+1)/(WarmupSteps+1), so the first update is not wasted
// at rate 0; then a half cosine from Base down to Min at TotalSteps; Min
// after that.
type Cosine struct {
	Base        float64 // peak learning rate, reached at the end of warm-up
	Min         float64 // final learning rate (nanoGPT uses about Base/10)
	WarmupSteps int64   // length of the linear warm-up; 0 for none
	TotalSteps  int64   // step at which the decay reaches Min (lr_decay_iters)
}

func (c Cosine) LR(step int64) float64 {
	if step < c.WarmupSteps {
		return c.Base * float64(step+1) / float64(c.WarmupSteps+1)
	}
	if step >= c.TotalSteps {
		return c.Min
	}
	ratio := float64(step-c.WarmupSteps) / float64(c.TotalSteps-c.WarmupSteps)
	coeff := 0.5 * (1 + math.Cos(math.Pi*ratio))
	return c.Min + coeff*(c.Base-c.Min)
}

// Linear is Hugging Face's get_linear_schedule_with_warmup, the Trainer's
// default: the rate rises linearly from 0 over WarmupSteps steps,
// Base·step/WarmupSteps, then falls linearly to 0 at TotalSteps,
// Base·(TotalSteps−step)/(TotalSteps−WarmupSteps), and stays 0. As there,
// the first update of a warm-up is at rate 0.
type Linear struct {
	Base        float64 // peak learning rate, reached at the end of warm-up
	WarmupSteps int64   // length of the warm-up; 0 for none
	TotalSteps  int64   // step at which the rate reaches 0
}

func (l Linear) LR(step int64) float64 {
	if step < l.WarmupSteps {
		return l.Base * float64(step) / float64(max(1, l.WarmupSteps))
	}
	return l.Base * max(0, float64(l.TotalSteps-step)/float64(max(1, l.TotalSteps-l.WarmupSteps)))
}
