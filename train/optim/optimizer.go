package optim

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"

	"github.com/tapeml/tapeml/internal/kernel"
	"github.com/tapeml/tapeml/internal/par"
)

// Param is one trainable tensor as an optimizer sees it.
type Param struct {
	Name  string    // PyTorch state_dict name, e.g. "fc.weight"; keys the state
	Shape []int     // only checked against len(Value) and recorded in State
	Value []float32 // updated in place
	Grad  []float32 // read only; same length as Value
	// Rows, when not nil, lists the only rows (along Shape[0]) where Grad
	// may be nonzero, each once: an embedding table's gradient. Rules whose
	// update leaves a zero-gradient row unchanged (SGD without momentum,
	// weight decay or L1) then touch those rows only — fastText's sparse
	// updates, with the dense update's result.
	Rows []int32
}

// Optimizer updates parameters from their gradients and keeps the state
// (moment estimates, momentum buffers) it needs between steps.
type Optimizer interface {
	// Step applies one update with this step's learning rate. On error
	// nothing, neither parameters nor state, has changed. A Step without
	// parameters does nothing and is not counted.
	Step(params []Param, lr float64) error
	// GradNorm is the global L2 norm of the gradients the last successful
	// Step saw, L1 term included, before clipping.
	GradNorm() float64
	// State returns a copy of the state, for a checkpoint.
	State() State
	// SetState replaces the state with a copy of s. Whether s fits the
	// parameters is checked by the next Step.
	SetState(s State) error
}

// State is an optimizer's saveable state.
type State struct {
	// Step is the number of updates taken; Adam's bias correction uses it.
	Step int64 `json:"step"`
	// Slots holds one tensor per parameter and slot, keyed
	// "<param name>.<slot>", e.g. "fc.weight.exp_avg", with PyTorch's slot
	// names.
	Slots map[string][]float32 `json:"slots"`
	// Shapes holds each slot's shape (its parameter's), same keys as Slots.
	Shapes map[string][]int `json:"shapes"`
}

// ErrNonFiniteGrad is wrapped by Step's error when a gradient holds NaN or
// ±Inf; the parameters are left as they were, so a caller may skip the batch.
var ErrNonFiniteGrad = errors.New("non-finite gradient")

// New returns the optimizer cfg describes; see Config.WithDefaults for the
// errors.
func New(cfg Config) (Optimizer, error) {
	cfg, err := cfg.WithDefaults()
	if err != nil {
		return nil, err
	}
	var r rule
	switch cfg.Name {
	case SGD:
		r = &sgdRule{cfg: cfg}
	case Adam, AdamW:
		r = &adamRule{cfg: cfg}
	case RMSProp:
		r = &rmspropRule{cfg: cfg}
	}
	return &optimizer{cfg: cfg, rule: r, slots: r.slotNames(), states: map[string]*paramState{}}, nil
}

// rule is one algorithm's update, applied per parameter.
type rule interface {
	// slotNames lists the state tensors kept per parameter.
	slotNames() []string
	// stepDependent reports whether the update depends on the step count, in
	// which case a parameter cannot join after the first step.
	stepDependent() bool
	// prepare computes the per-step constants before any update.
	prepare(step int64, lr float64)
	// update applies one step to w given the effective gradient g. first is
	// true the first time this parameter's slots are used. It must be
	// element-wise and only read the rule: Step updates parts of a large
	// parameter concurrently (updateDense).
	update(w, g []float32, slots [][]float32, first bool)
}

// paramState is the state of one parameter.
type paramState struct {
	slots    [][]float32 // in the order of rule.slotNames
	shape    []int
	used     bool  // slots hold values from an update or a restore
	visit    int64 // the Step call that last saw it, to catch duplicate names
	restored bool  // came from SetState and not yet matched to a parameter
}

type optimizer struct {
	cfg      Config
	rule     rule
	slots    []string
	states   map[string]*paramState
	step     int64
	calls    int64 // Step calls, successful or not
	gradNorm float64
	restored int       // restored states not yet matched to a parameter
	scratch  []float32 // effective gradient of the parameter being updated
}

func (o *optimizer) GradNorm() float64 { return o.gradNorm }

func (o *optimizer) Step(params []Param, lr float64) error {
	if !(lr >= 0) || math.IsInf(lr, 1) {
		return fmt.Errorf("optim: %s step %d: learning rate %v: want a finite value ≥ 0", o.cfg.Name, o.step+1, lr)
	}
	if len(params) == 0 {
		return nil // nothing to update; not counted as a step
	}
	o.calls++
	// Pass 1: validate everything before changing anything.
	var sumSq float64
	maxLen := 0
	for i := range params {
		p := &params[i]
		if err := o.check(p); err != nil {
			return fmt.Errorf("optim: %s step %d: %w", o.cfg.Name, o.step+1, err)
		}
		if rows, width, ok := o.sparse(p); ok {
			for _, r := range rows {
				sumSq += penalizedSquares(nil, p.Grad[int(r)*width:(int(r)+1)*width], 0)
			}
		} else {
			sumSq += denseSquares(p.Value, p.Grad, float32(o.cfg.L1))
		}
		maxLen = max(maxLen, len(p.Value))
	}
	if o.restored > 0 {
		for name, st := range o.states {
			if st.restored && st.visit != o.calls {
				return fmt.Errorf("optim: %s step %d: restored state for parameter %q (slots %s.*) matches no parameter of this step", o.cfg.Name, o.step+1, name, name)
			}
		}
	}
	norm := math.Sqrt(sumSq)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return fmt.Errorf("optim: %s step %d: gradient norm is %v: %w", o.cfg.Name, o.step+1, norm, ErrNonFiniteGrad)
	}
	o.gradNorm = norm

	// Pass 2: update.
	o.restored = 0
	o.step++
	o.rule.prepare(o.step, lr)
	coef := float32(1)
	if o.cfg.ClipNorm > 0 {
		coef = clipCoef(norm, o.cfg.ClipNorm)
	}
	decay := float32(o.cfg.WeightDecay)
	if o.cfg.Name == AdamW {
		decay = 0 // decoupled: the rule applies it to w
	}
	if cap(o.scratch) < maxLen {
		o.scratch = make([]float32, maxLen)
	}
	for i := range params {
		p := &params[i]
		st := o.states[p.Name]
		if rows, width, ok := o.sparse(p); ok {
			for _, r := range rows {
				at := int(r) * width
				w := p.Value[at : at+width]
				g := effectiveGrad(o.scratch[:width], w, p.Grad[at:at+width], 0, coef, 0)
				o.rule.update(w, g, nil, !st.used)
			}
			st.used = true
			st.restored = false
			continue
		}
		g := effectiveGrad(o.scratch[:len(p.Value)], p.Value, p.Grad, float32(o.cfg.L1), coef, decay)
		o.updateDense(p.Value, g, st.slots, !st.used)
		st.used = true
		st.restored = false
	}
	return nil
}

// splitUpdate is the fewest weights whose update is split across the
// cores: below it a fork's handoff and join cost more than the halved
// pass over memory saves (the ConvNet's fc.0 has 8.4M weights).
const splitUpdate = 1 << 20

// updateDense applies the rule to all of w, in contiguous parts on up to
// GOMAXPROCS goroutines when w is large. The rules are element-wise, and
// parts start at multiples of 64, so every element goes through the same
// vector or scalar loop as in one call: the bits do not depend on the
// split.
func (o *optimizer) updateDense(w, g []float32, slots [][]float32, first bool) {
	parts := min(runtime.GOMAXPROCS(0), len(w)/(splitUpdate/2))
	if parts < 2 {
		o.rule.update(w, g, slots, first)
		return
	}
	par.Fork(parts, func(p int) {
		from, to := p*len(w)/parts&^63, (p+1)*len(w)/parts&^63
		if p == parts-1 {
			to = len(w)
		}
		sub := make([][]float32, len(slots))
		for i, s := range slots {
			sub[i] = s[from:to]
		}
		o.rule.update(w[from:to], g[from:to], sub, first)
	})
}

// normPart is the length of the parts of a large gradient whose squares
// denseSquares sums separately (a multiple of kernel.SquareLanes).
const normPart = 1 << 18

// denseSquares is penalizedSquares of a whole parameter. A large one
// (splitUpdate weights or more) is summed in parts of normPart on up to
// GOMAXPROCS goroutines, each part from zero, and the parts' sums are
// added in order: the result depends on that fixed split alone, not on
// the thread count, and the pass over the gradient (32 MB for the
// ConvNet's fc.0) is no longer left to one core.
func denseSquares(w, g []float32, l1 float32) float64 {
	if len(g) < splitUpdate {
		return penalizedSquares(w, g, l1)
	}
	parts := (len(g) + normPart - 1) / normPart
	threads := min(runtime.GOMAXPROCS(0), parts)
	sums := make([]float64, parts)
	sum := func(t int) {
		for p := t * parts / threads; p < (t+1)*parts/threads; p++ {
			from, to := p*normPart, min((p+1)*normPart, len(g))
			var wp []float32
			if l1 != 0 {
				wp = w[from:to]
			}
			sums[p] = penalizedSquares(wp, g[from:to], l1)
		}
	}
	par.Fork(threads, sum)
	var s float64
	for _, v := range sums {
		s += v
	}
	return s
}

// sparse returns p's gradient rows and row width when the update may
// touch those rows only: the rule keeps no state and nothing but the
// gradient moves a weight (no weight decay, no L1). Rows outside the
// parameter fall back to the dense update, which is always right.
func (o *optimizer) sparse(p *Param) (rows []int32, width int, ok bool) {
	if p.Rows == nil || len(o.slots) != 0 || o.cfg.Name != SGD || o.cfg.WeightDecay != 0 || o.cfg.L1 != 0 || len(p.Shape) == 0 || p.Shape[0] == 0 {
		return nil, 0, false
	}
	width = len(p.Value) / p.Shape[0]
	for _, r := range p.Rows {
		if r < 0 || int(r) >= p.Shape[0] {
			return nil, 0, false
		}
	}
	return p.Rows, width, true
}

// check validates p and finds or creates its state, marking it visited.
func (o *optimizer) check(p *Param) error {
	n := 1
	for _, d := range p.Shape {
		if d < 0 {
			return fmt.Errorf("parameter %q: negative dimension in shape %v", p.Name, p.Shape)
		}
		n *= d
	}
	if n != len(p.Value) {
		return fmt.Errorf("parameter %q: shape %v holds %d values, Value has %d", p.Name, p.Shape, n, len(p.Value))
	}
	if len(p.Grad) != len(p.Value) {
		return fmt.Errorf("parameter %q: Grad has %d values, Value has %d", p.Name, len(p.Grad), len(p.Value))
	}
	st, ok := o.states[p.Name]
	if ok && st.visit == o.calls {
		return fmt.Errorf("parameter %q appears twice", p.Name)
	}
	if (!ok || !st.used) && o.step > 0 && o.rule.stepDependent() {
		return fmt.Errorf("parameter %q has no %s state after %d steps: parameters cannot join once training has started", p.Name, o.cfg.Name, o.step)
	}
	if !ok || (!st.used && !slices.Equal(st.shape, p.Shape)) { // a failed Step may have left an unused state
		st = &paramState{shape: append([]int(nil), p.Shape...), slots: make([][]float32, len(o.slots))}
		for k := range st.slots {
			st.slots[k] = make([]float32, len(p.Value))
		}
		o.states[p.Name] = st
	}
	if !slices.Equal(st.shape, p.Shape) && len(st.slots) > 0 {
		return fmt.Errorf("parameter %q has shape %v but its state (%s.%s) has shape %v", p.Name, p.Shape, p.Name, o.slots[0], st.shape)
	}
	st.visit = o.calls
	for k, s := range st.slots {
		if len(s) != len(p.Value) {
			return fmt.Errorf("parameter %q has %d values but its state %s.%s has %d (shape %v)", p.Name, len(p.Value), p.Name, o.slots[k], len(s), st.shape)
		}
	}
	return nil
}

// penalizedSquares is Σ (g + l1·sign(w))², accumulated in float64 (exact
// for each square, and ample for millions of terms). Without L1 it sums
// kernel.SumSquares's sixteen independent lanes (the same bits on every
// kernel path), so the loop is not bound by the latency of one chain of
// additions.
func penalizedSquares(w, g []float32, l1 float32) float64 {
	if l1 == 0 {
		var part [kernel.SquareLanes]float64
		kernel.SumSquares(&part, g)
		return kernel.ReduceLanes(&part)
	}
	var s float64
	w = w[:len(g)]
	for i := range g {
		x := float64(g[i] + l1*sign(w[i]))
		s += x * x
	}
	return s
}

// clipCoef is clip_grad_norm_'s min(1, maxNorm/(norm+1e-6)), in float32 and
// in PyTorch's order of operations (a scalar divided by a tensor is computed
// as reciprocal times scalar).
func clipCoef(norm, maxNorm float64) float32 {
	c := (1 / (float32(norm) + float32(1e-6))) * float32(maxNorm)
	return min(c, 1)
}

// effectiveGrad writes ((g + l1·sign(w))·coef + decay·w) into dst and returns
// it, or returns g itself when that would change nothing.
func effectiveGrad(dst, w, g []float32, l1, coef, decay float32) []float32 {
	if l1 == 0 && coef == 1 && decay == 0 {
		return g
	}
	w, g = w[:len(dst)], g[:len(dst)]
	for i := range dst {
		x := g[i]
		if l1 != 0 {
			x += l1 * sign(w[i])
		}
		if coef != 1 {
			x *= coef
		}
		if decay != 0 {
			x = fma32(decay, w[i], x)
		}
		dst[i] = x
	}
	return dst
}

// fma32 is a·b + c rounded once, as PyTorch's CPU kernels compute
// add(x, alpha) and addcmul with fused multiply-adds. The float64 product of
// two float32 values is exact, so only the final rounding remains (twice, to
// float64 and then float32, which differs from one rounding only in rare
// ties far below the tests' tolerance).
func fma32(a, b, c float32) float32 { return float32(float64(a)*float64(b) + float64(c)) }

// sign is torch.sign: −1, 0 or 1 (x itself for ±0 and NaN). It copies the
// sign bit onto 1 rather than branching on it, because weight signs are
// random and a branch on them mispredicts half the time.
func sign(x float32) float32 {
	if x == 0 || x != x {
		return x
	}
	return math.Float32frombits(math.Float32bits(x)&(1<<31) | math.Float32bits(1))
}

func (o *optimizer) State() State {
	s := State{Step: o.step, Slots: map[string][]float32{}, Shapes: map[string][]int{}}
	for name, st := range o.states {
		if !st.used {
			continue
		}
		for k, slot := range st.slots {
			key := name + "." + o.slots[k]
			s.Slots[key] = append([]float32(nil), slot...)
			s.Shapes[key] = append([]int{}, st.shape...)
		}
	}
	return s
}

func (o *optimizer) SetState(s State) error {
	if s.Step < 0 {
		return fmt.Errorf("optim: %s state: step %d: want ≥ 0", o.cfg.Name, s.Step)
	}
	if s.Step == 0 && len(s.Slots) > 0 {
		return fmt.Errorf("optim: %s state: step is 0 but %d slots are present", o.cfg.Name, len(s.Slots))
	}
	for key := range s.Shapes {
		if _, ok := s.Slots[key]; !ok {
			return fmt.Errorf("optim: %s state: shape for %q but no slot", o.cfg.Name, key)
		}
	}
	states := map[string]*paramState{}
	for key, vals := range s.Slots {
		name, k, err := o.splitKey(key)
		if err != nil {
			return err
		}
		shape, ok := s.Shapes[key]
		if !ok {
			return fmt.Errorf("optim: %s state: slot %q has no shape", o.cfg.Name, key)
		}
		n := 1
		for _, d := range shape {
			if d < 0 {
				return fmt.Errorf("optim: %s state: slot %q: negative dimension in shape %v", o.cfg.Name, key, shape)
			}
			n *= d
		}
		if n != len(vals) {
			return fmt.Errorf("optim: %s state: slot %q: shape %v holds %d values, slot has %d", o.cfg.Name, key, shape, n, len(vals))
		}
		st := states[name]
		if st == nil {
			st = &paramState{shape: append([]int(nil), shape...), slots: make([][]float32, len(o.slots)), used: true, restored: true}
			states[name] = st
		} else if !slices.Equal(st.shape, shape) {
			return fmt.Errorf("optim: %s state: slot %q has shape %v, other slots of %q have %v", o.cfg.Name, key, shape, name, st.shape)
		}
		st.slots[k] = append([]float32(nil), vals...)
	}
	for name, st := range states {
		for k, slot := range st.slots {
			if slot == nil {
				return fmt.Errorf("optim: %s state: slot %s.%s is missing", o.cfg.Name, name, o.slots[k])
			}
		}
	}
	o.states, o.step, o.restored = states, s.Step, len(states)
	return nil
}

// splitKey splits "<param>.<slot>" and returns the slot's index.
func (o *optimizer) splitKey(key string) (string, int, error) {
	for k, slot := range o.slots {
		suffix := "." + slot
		if len(key) > len(suffix) && key[len(key)-len(suffix):] == suffix {
			return key[:len(key)-len(suffix)], k, nil
		}
	}
	if len(o.slots) == 0 {
		return "", 0, fmt.Errorf("optim: %s state: slot %q: this configuration keeps no state", o.cfg.Name, key)
	}
	return "", 0, fmt.Errorf("optim: %s state: slot %q: want \"<param>.<slot>\" with slot one of %v", o.cfg.Name, key, o.slots)
}
