package optim

import "github.com/tapeml/tapeml/internal/kernel"

// sgdRule is torch.optim.SGD (1.13, single-tensor path):
//
//	buf ← g on the first step, else momentum·buf + (1−dampening)·g
//	d   ← g + momentum·buf if Nesterov, else buf (g without momentum)
//	w   ← w − lr·d
type sgdRule struct {
	cfg Config
	// per-step constants, in float32 as PyTorch casts them
	negLR, momentum, keep float32
}

func (r *sgdRule) slotNames() []string {
	if r.cfg.Momentum == 0 {
		return nil
	}
	return []string{"momentum_buffer"}
}

func (r *sgdRule) stepDependent() bool { return false }

func (r *sgdRule) prepare(_ int64, lr float64) {
	r.negLR = float32(-lr)
	r.momentum = float32(r.cfg.Momentum)
	r.keep = float32(1 - r.cfg.Dampening)
}

func (r *sgdRule) update(w, g []float32, slots [][]float32, first bool) {
	g = g[:len(w)]
	negLR, mom, keep := r.negLR, r.momentum, r.keep
	if r.cfg.Momentum == 0 {
		for i := kernel.SGD(w, g, negLR); i < len(w); i++ { // a vector prefix, then the rest
			w[i] = fma32(negLR, g[i], w[i])
		}
		return
	}
	buf := slots[0][:len(w)]
	if first {
		copy(buf, g)
	}
	i := 0
	if !first && !r.cfg.Nesterov {
		i = kernel.SGDMomentum(w, g, buf, negLR, mom, keep)
	}
	for ; i < len(w); i++ {
		b := buf[i]
		if !first {
			b = fma32(keep, g[i], b*mom)
			buf[i] = b
		}
		if r.cfg.Nesterov {
			w[i] = fma32(negLR, fma32(mom, b, g[i]), w[i])
		} else {
			w[i] = fma32(negLR, b, w[i])
		}
	}
}
