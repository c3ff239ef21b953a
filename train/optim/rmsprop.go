package optim

// rmspropRule is torch.optim.RMSprop (1.13, single-tensor path):
//
//	s ← α·s + (1−α)·g²
//	ḡ ← α·ḡ + (1−α)·g;  a ← √(s − ḡ²) + ε     centered
//	a ← √s + ε                                 otherwise
//	b ← momentum·b + g/a;  w ← w − lr·b        momentum > 0
//	w ← w − lr·g/a                             otherwise
type rmspropRule struct {
	cfg Config
	// per-step constants
	negLR, alpha, oneMinusAlpha, eps, momentum float32
}

func (r *rmspropRule) slotNames() []string {
	names := []string{"square_avg"}
	if r.cfg.Momentum > 0 {
		names = append(names, "momentum_buffer")
	}
	if r.cfg.Centered {
		names = append(names, "grad_avg")
	}
	return names
}

func (r *rmspropRule) stepDependent() bool { return false }

func (r *rmspropRule) prepare(_ int64, lr float64) {
	r.negLR = float32(-lr)
	r.alpha, r.oneMinusAlpha = float32(r.cfg.Alpha), float32(1-r.cfg.Alpha)
	r.eps = float32(r.cfg.Eps)
	r.momentum = float32(r.cfg.Momentum)
}

func (r *rmspropRule) update(w, g []float32, slots [][]float32, _ bool) {
	n := len(w)
	g = g[:n]
	sq := slots[0][:n]
	var buf, ga []float32
	k := 1
	if r.cfg.Momentum > 0 {
		buf = slots[k][:n]
		k++
	}
	if r.cfg.Centered {
		ga = slots[k][:n]
	}
	// Locals, so the loop does not reload the constants after every store.
	negLR, alpha, oma, eps, mom := r.negLR, r.alpha, r.oneMinusAlpha, r.eps, r.momentum
	for i := range w {
		gi := g[i]
		s := fma32(oma*gi, gi, sq[i]*alpha)
		sq[i] = s
		var a float32
		if ga != nil {
			m := fma32(oma, gi, ga[i]*alpha)
			ga[i] = m
			a = sqrt32(fma32(-m, m, s)) + eps
		} else {
			a = sqrt32(s) + eps
		}
		if buf != nil {
			b := buf[i]*mom + gi/a
			buf[i] = b
			w[i] = fma32(negLR, b, w[i])
		} else {
			w[i] += negLR * gi / a
		}
	}
}
