package optim

import (
	"fmt"
	"math"
)

// Algorithm names accepted in Config.Name.
const (
	SGD     = "sgd"
	Adam    = "adam"
	AdamW   = "adamw"
	RMSProp = "rmsprop"
)

// PyTorch's defaults, applied to fields left at zero.
const (
	DefaultBeta1            = 0.9   // Adam, AdamW
	DefaultBeta2            = 0.999 // Adam, AdamW
	DefaultEps              = 1e-8  // Adam, AdamW, RMSProp
	DefaultAlpha            = 0.99  // RMSProp
	DefaultAdamWWeightDecay = 0.01  // AdamW only; the others default to 0
)

// Config selects an optimizer and its hyper-parameters. The learning rate is
// not here: it comes with every Step, from a Schedule.
//
// A field left at zero takes PyTorch's default, so a Config read from JSON
// may omit any of them. Two consequences: AdamW without weight decay is
// spelled "adam" (the updates are identical), and Beta1 cannot be exactly 0
// (any value below 1e-46 rounds to 0 in float32 and behaves as 0).
// WithDefaults returns the Config with every default written out, which is
// what belongs in a checkpoint's meta.json.
//
// A non-zero field the chosen algorithm does not use is an error rather
// than silently ignored.
type Config struct {
	// Name is the algorithm: "sgd", "adam", "adamw" or "rmsprop". Required.
	Name string `json:"name"`

	// Momentum is the momentum factor of SGD and RMSProp (default 0: none).
	Momentum float64 `json:"momentum,omitempty"`
	// Dampening scales the gradient's share of SGD's momentum buffer by
	// 1−Dampening (default 0).
	Dampening float64 `json:"dampening,omitempty"`
	// Nesterov switches SGD to Nesterov momentum (default false); it needs
	// Momentum > 0 and Dampening 0.
	Nesterov bool `json:"nesterov,omitempty"`

	// Beta1 is Adam's decay rate for the gradient average (default 0.9).
	Beta1 float64 `json:"beta1,omitempty"`
	// Beta2 is Adam's decay rate for the squared-gradient average
	// (default 0.999).
	Beta2 float64 `json:"beta2,omitempty"`
	// Eps is added to the denominator of Adam and RMSProp (default 1e-8).
	Eps float64 `json:"eps,omitempty"`
	// AMSGrad makes Adam divide by the running maximum of the
	// squared-gradient average (default false).
	AMSGrad bool `json:"amsgrad,omitempty"`

	// Alpha is RMSProp's smoothing constant (default 0.99).
	Alpha float64 `json:"alpha,omitempty"`
	// Centered makes RMSProp divide by the estimated variance of the
	// gradient instead of its second moment (default false).
	Centered bool `json:"centered,omitempty"`

	// WeightDecay is PyTorch's weight_decay: for sgd, adam and rmsprop an L2
	// term WeightDecay·w added to the gradient (after clipping); for adamw
	// the decoupled decay w ← w·(1 − lr·WeightDecay). Default 0, and 0.01 for
	// adamw.
	WeightDecay float64 `json:"weight_decay,omitempty"`
	// L1 adds L1·sign(w) to every gradient, as a penalty L1·Σ|w| in the loss
	// would (default 0).
	L1 float64 `json:"l1,omitempty"`
	// ClipNorm, if > 0, scales all gradients together so that their global
	// L2 norm is at most ClipNorm, with clip_grad_norm_'s ε of 1e-6
	// (default 0: no clipping).
	ClipNorm float64 `json:"clip_norm,omitempty"`
}

// WithDefaults checks c and returns it with every default filled in. The
// error names the first field that is out of range or does not apply to the
// algorithm.
func (c Config) WithDefaults() (Config, error) {
	var unused []string // fields the algorithm ignores, so they must be zero
	switch c.Name {
	case SGD:
		unused = c.nonZero("beta1", "beta2", "eps", "amsgrad", "alpha", "centered")
	case Adam, AdamW:
		unused = c.nonZero("momentum", "dampening", "nesterov", "alpha", "centered")
		c.Beta1 = orDefault(c.Beta1, DefaultBeta1)
		c.Beta2 = orDefault(c.Beta2, DefaultBeta2)
		c.Eps = orDefault(c.Eps, DefaultEps)
		if c.Name == AdamW {
			c.WeightDecay = orDefault(c.WeightDecay, DefaultAdamWWeightDecay)
		}
	case RMSProp:
		unused = c.nonZero("dampening", "nesterov", "beta1", "beta2", "amsgrad")
		c.Alpha = orDefault(c.Alpha, DefaultAlpha)
		c.Eps = orDefault(c.Eps, DefaultEps)
	case "":
		return c, fmt.Errorf("optim: config field name is empty: want one of sgd, adam, adamw, rmsprop")
	default:
		return c, fmt.Errorf("optim: config field name: unknown optimizer %q: want one of sgd, adam, adamw, rmsprop", c.Name)
	}
	if len(unused) > 0 {
		return c, fmt.Errorf("optim: config field %s is set but %s does not use it", unused[0], c.Name)
	}
	checks := []struct {
		field  string
		v      float64
		lo, hi float64 // valid range [lo, hi)
	}{
		{"momentum", c.Momentum, 0, math.Inf(1)},
		{"dampening", c.Dampening, 0, math.Inf(1)},
		{"beta1", c.Beta1, 0, 1},
		{"beta2", c.Beta2, 0, 1},
		{"eps", c.Eps, 0, math.Inf(1)},
		{"alpha", c.Alpha, 0, math.Inf(1)},
		{"weight_decay", c.WeightDecay, 0, math.Inf(1)},
		{"l1", c.L1, 0, math.Inf(1)},
		{"clip_norm", c.ClipNorm, 0, math.Inf(1)},
	}
	for _, k := range checks {
		if !(k.v >= k.lo && k.v < k.hi) { // also catches NaN
			return c, fmt.Errorf("optim: config field %s = %v: want a value in [%v, %v)", k.field, k.v, k.lo, k.hi)
		}
	}
	if c.Nesterov && (c.Momentum <= 0 || c.Dampening != 0) {
		return c, fmt.Errorf("optim: config field nesterov: Nesterov momentum needs momentum > 0 and dampening 0 (have %v, %v)", c.Momentum, c.Dampening)
	}
	return c, nil
}

// nonZero returns the names among fields whose values are set in c.
func (c Config) nonZero(fields ...string) []string {
	set := map[string]bool{
		"momentum":  c.Momentum != 0,
		"dampening": c.Dampening != 0,
		"nesterov":  c.Nesterov,
		"beta1":     c.Beta1 != 0,
		"beta2":     c.Beta2 != 0,
		"eps":       c.Eps != 0,
		"amsgrad":   c.AMSGrad,
		"alpha":     c.Alpha != 0,
		"centered":  c.Centered,
	}
	var out []string
	for _, f := range fields {
		if set[f] {
			out = append(out, f)
		}
	}
	return out
}

func orDefault(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}
