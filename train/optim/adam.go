package optim

import (
	"math"

	"github.com/tapeml/tapeml/internal/kernel"
)

// adamRule is torch.optim.Adam and, with decoupled weight decay,
// torch.optim.AdamW (1.13, single-tensor path), at step t:
//
//	w ← w·(1 − lr·weight_decay)                 AdamW only
//	m ← β1·m + (1−β1)·g
//	v ← β2·v + (1−β2)·g²
//	v̂ ← max(v̂, v), used instead of v            AMSGrad only
//	w ← w − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε)
//
// The bias corrections are computed in float64, the rest in float32, as in
// PyTorch.
type adamRule struct {
	cfg Config
	// per-step constants
	decayFactor               float32 // 1 − lr·weight_decay (AdamW)
	beta1, oneMinusBeta1      float32
	beta2, oneMinusBeta2      float32
	negStepSize, bc2Sqrt, eps float32
}

func (r *adamRule) slotNames() []string {
	if r.cfg.AMSGrad {
		return []string{"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
	}
	return []string{"exp_avg", "exp_avg_sq"}
}

func (r *adamRule) stepDependent() bool { return true }

func (r *adamRule) prepare(step int64, lr float64) {
	c := r.cfg
	t := float64(step)
	r.decayFactor = float32(1 - lr*c.WeightDecay)
	r.beta1, r.oneMinusBeta1 = float32(c.Beta1), float32(1-c.Beta1)
	r.beta2, r.oneMinusBeta2 = float32(c.Beta2), float32(1-c.Beta2)
	r.negStepSize = float32(-(lr / (1 - math.Pow(c.Beta1, t))))
	r.bc2Sqrt = float32(math.Sqrt(1 - math.Pow(c.Beta2, t)))
	r.eps = float32(c.Eps)
}

func (r *adamRule) update(w, g []float32, slots [][]float32, _ bool) {
	n := len(w)
	g = g[:n]
	m, v := slots[0][:n], slots[1][:n]
	if r.cfg.Name == AdamW && r.decayFactor != 1 {
		for i := range w {
			w[i] *= r.decayFactor
		}
	}
	den := v
	if r.cfg.AMSGrad {
		den = slots[2][:n]
	}
	// Locals, so the loop does not reload the constants after every store.
	b1, omb1, b2, omb2 := r.beta1, r.oneMinusBeta1, r.beta2, r.oneMinusBeta2
	negStep, bc2Sqrt, eps, amsgrad := r.negStepSize, r.bc2Sqrt, r.eps, r.cfg.AMSGrad
	i := 0
	if !amsgrad { // the vector loop takes a prefix, this loop the rest
		c := kernel.AdamConsts{Beta1: b1, OneMinusBeta1: omb1, Beta2: b2, OneMinusBeta2: omb2, NegStep: negStep, Bc2Sqrt: bc2Sqrt, Eps: eps}
		i = kernel.Adam(w, g, m, v, &c)
	}
	for ; i < n; i++ {
		gi := g[i]
		mi := fma32(omb1, gi, m[i]*b1)
		m[i] = mi
		vi := fma32(omb2*gi, gi, v[i]*b2)
		v[i] = vi
		if amsgrad && vi > den[i] {
			den[i] = vi
		}
		d := sqrt32(den[i])/bc2Sqrt + eps
		w[i] += negStep * mi / d
	}
}

// sqrt32 is the correctly rounded float32 square root (rounding the float64
// root to float32 is exact for square roots).
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
