package privacy

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// DefaultOrders are the Rényi orders Opacus's RDPAccountant minimizes over:
// 1.1, 1.2, ..., 10.9 and 12, 13, ..., 63.
var DefaultOrders = defaultOrders()

func defaultOrders() []float64 {
	var o []float64
	for x := 1; x < 100; x++ {
		o = append(o, 1+float64(x)/10)
	}
	for a := 12; a < 64; a++ {
		o = append(o, float64(a))
	}
	return o
}

// Conversion selects how RDP is turned into (ε, δ)-DP.
type Conversion int

const (
	// Balle is ε = RDP(α) − (log δ + log α)/(α−1) + log((α−1)/α), Balle et
	// al. 2020, Theorem 21; Opacus uses it.
	Balle Conversion = iota
	// Classic is ε = RDP(α) + log(1/δ)/(α−1) (Mironov 2017, Proposition 3).
	Classic
)

func (c Conversion) String() string {
	switch c {
	case Balle:
		return "balle"
	case Classic:
		return "classic"
	}
	return fmt.Sprintf("Conversion(%d)", int(c))
}

func checkMechanism(q, sigma float64, steps int) error {
	switch {
	case !(q >= 0 && q <= 1):
		return fmt.Errorf("privacy: sample rate %v is not in [0, 1]", q)
	case !(sigma >= 0) || math.IsInf(sigma, 1):
		return fmt.Errorf("privacy: noise multiplier %v is not a finite number ≥ 0", sigma)
	case steps < 0:
		return fmt.Errorf("privacy: steps %d < 0", steps)
	}
	return nil
}

// RDP returns the Rényi-DP of steps compositions of the sampled Gaussian
// mechanism with sampling rate q and noise multiplier sigma (noise standard
// deviation over L2 sensitivity) at each order in orders. Entries may be
// +Inf (sigma = 0).
func RDP(q, sigma float64, steps int, orders []float64) ([]float64, error) {
	if err := checkMechanism(q, sigma, steps); err != nil {
		return nil, err
	}
	out := make([]float64, len(orders))
	for i, a := range orders {
		if !(a > 1) {
			return nil, fmt.Errorf("privacy: order %v is not > 1", a)
		}
		if steps == 0 {
			continue // no composition: RDP 0, whatever the noise
		}
		r, err := rdpOne(q, sigma, a)
		if err != nil {
			return nil, fmt.Errorf("privacy: order %v: %w", a, err)
		}
		out[i] = r * float64(steps)
	}
	return out, nil
}

func rdpOne(q, sigma, alpha float64) (float64, error) {
	switch {
	case q == 0:
		return 0, nil
	case sigma == 0:
		return math.Inf(1), nil
	case q == 1:
		return alpha / (2 * sigma * sigma), nil
	case math.IsInf(alpha, 1):
		return math.Inf(1), nil
	}
	var la float64
	var err error
	if alpha == math.Trunc(alpha) {
		la = logAInt(q, sigma, int(alpha))
	} else {
		la, err = logAFrac(q, sigma, alpha)
	}
	return la / (alpha - 1), err
}

// logAdd returns log(exp(x) + exp(y)).
func logAdd(x, y float64) float64 {
	a, b := math.Min(x, y), math.Max(x, y)
	if math.IsInf(a, -1) {
		return b
	}
	return math.Log1p(math.Exp(a-b)) + b
}

var errNegative = errors.New("log-space subtraction would be negative")

// logSub returns log(exp(x) − exp(y)) for x ≥ y.
func logSub(x, y float64) (float64, error) {
	switch {
	case x < y:
		return 0, errNegative
	case math.IsInf(y, -1):
		return x, nil
	case x == y:
		return math.Inf(-1), nil
	}
	d := math.Expm1(x - y)
	if math.IsInf(d, 1) {
		return x, nil // exp(x−y) overflows: the subtrahend is negligible
	}
	return math.Log(d) + y, nil
}

// logAInt is log(A_α) for integer α, Mironov et al. 2019, Section 3.3.
func logAInt(q, sigma float64, alpha int) float64 {
	la := math.Inf(-1)
	lq, l1q := math.Log(q), math.Log1p(-q)
	lgA, _ := math.Lgamma(float64(alpha) + 1)
	for i := 0; i <= alpha; i++ {
		lgi, _ := math.Lgamma(float64(i) + 1)
		lgj, _ := math.Lgamma(float64(alpha-i) + 1)
		fi := float64(i)
		c := lgA - lgi - lgj + fi*lq + float64(alpha-i)*l1q
		la = logAdd(la, c+(fi*fi-fi)/(2*sigma*sigma))
	}
	return la
}

// logAFrac is log(A_α) for fractional α, Mironov et al. 2019, Section 3.3:
// the two integrals over (−∞, z0] and [z0, ∞) as series in i, summed until
// the terms fall below e^−30.
func logAFrac(q, sigma, alpha float64) (float64, error) {
	la0, la1 := math.Inf(-1), math.Inf(-1)
	z0 := sigma*sigma*math.Log(1/q-1) + 0.5
	lq, l1q := math.Log(q), math.Log1p(-q)
	// The generalized binomial coefficient binom(α, i), kept as a sign and a
	// log magnitude, updated by the factor (α − i)/(i + 1).
	sign, lc := 1.0, 0.0
	s2 := math.Sqrt2 * sigma
	for i := 0; ; i++ {
		if i > 0 {
			f := (alpha - float64(i-1)) / float64(i)
			if f < 0 {
				sign = -sign
			}
			lc += math.Log(math.Abs(f))
		}
		fi := float64(i)
		j := alpha - fi
		lt0 := lc + fi*lq + j*l1q
		lt1 := lc + j*lq + fi*l1q
		le0 := math.Log(0.5) + logErfc((fi-z0)/s2)
		le1 := math.Log(0.5) + logErfc((z0-j)/s2)
		ls0 := lt0 + (fi*fi-fi)/(2*sigma*sigma) + le0
		ls1 := lt1 + (j*j-j)/(2*sigma*sigma) + le1
		if sign > 0 {
			la0 = logAdd(la0, ls0)
			la1 = logAdd(la1, ls1)
		} else {
			var err error
			if la0, err = logSub(la0, ls0); err != nil {
				return 0, err
			}
			if la1, err = logSub(la1, ls1); err != nil {
				return 0, err
			}
		}
		if math.Max(ls0, ls1) < -30 {
			break
		}
		if i > 1e6 {
			return 0, errors.New("series for a fractional order does not converge")
		}
	}
	return logAdd(la0, la1), nil
}

// logErfc returns log(erfc(x)), accurate where erfc(x) underflows.
func logErfc(x float64) float64 {
	if x < 25 {
		return math.Log(math.Erfc(x))
	}
	// Asymptotic series: erfc(x) = e^{−x²}/(x√π) · (1 − 1/(2x²) + 3/(4x⁴) − …).
	x2 := x * x
	s, t := 1.0, 1.0
	for k := 1; k < 8; k++ {
		t *= -float64(2*k-1) / (2 * x2)
		s += t
	}
	return -x2 - math.Log(x) - 0.5*math.Log(math.Pi) + math.Log(s)
}

// Epsilon converts the RDP values rdp at orders to (ε, δ)-DP and returns
// the smallest ε over the orders and the order that gave it. No finite
// bound (no noise) gives ε = +Inf and order NaN; a mechanism that
// releases nothing (0 steps, or sampling rate 0: every RDP value 0) gives
// ε = 0 and order NaN. ε is never negative: a bound below 0, which a δ
// close to 1 gives, means (0, δ)-DP.
func Epsilon(orders, rdp []float64, delta float64, conv Conversion) (eps, order float64, err error) {
	if len(orders) != len(rdp) {
		return 0, 0, fmt.Errorf("privacy: %d orders but %d RDP values", len(orders), len(rdp))
	}
	if !(delta > 0 && delta < 1) {
		return 0, 0, fmt.Errorf("privacy: delta %v is not in (0, 1)", delta)
	}
	if conv != Balle && conv != Classic {
		return 0, 0, fmt.Errorf("privacy: unknown conversion %d", int(conv))
	}
	if !slices.ContainsFunc(rdp, func(r float64) bool { return r != 0 }) {
		return 0, math.NaN(), nil
	}
	eps, order = math.Inf(1), math.NaN()
	ld := math.Log(delta)
	for i, a := range orders {
		var e float64
		if conv == Balle {
			e = rdp[i] - (ld+math.Log(a))/(a-1) + math.Log((a-1)/a)
		} else {
			e = rdp[i] - ld/(a-1)
		}
		if e < eps { // NaN never compares less: ignored as by nanargmin
			eps, order = e, a
		}
	}
	return max(eps, 0), order, nil
}

// Spent is one accounting result.
type Spent struct {
	Epsilon float64 // ε of the (ε, δ)-DP guarantee
	Order   float64 // the Rényi order that gave it
}

// Compute returns the (ε, δ) spent by steps steps of DP-SGD with Poisson
// sampling rate q and noise multiplier sigma, over DefaultOrders.
func Compute(q, sigma float64, steps int, delta float64, conv Conversion) (Spent, error) {
	rdp, err := RDP(q, sigma, steps, DefaultOrders)
	if err != nil {
		return Spent{}, err
	}
	e, o, err := Epsilon(DefaultOrders, rdp, delta, conv)
	return Spent{Epsilon: e, Order: o}, err
}

// StepsForEpochs is the number of steps of epochs passes at sampling rate q,
// ⌊epochs/q⌋ as Opacus counts them.
func StepsForEpochs(epochs, q float64) (int, error) {
	if !(q > 0 && q <= 1) {
		return 0, fmt.Errorf("privacy: sample rate %v is not in (0, 1]", q)
	}
	if !(epochs >= 0) || epochs/q > 1<<40 {
		return 0, fmt.Errorf("privacy: %v epochs at sample rate %v is not a usable step count", epochs, q)
	}
	return int(epochs / q), nil
}

// MaxNoise is the largest noise multiplier NoiseForEpsilon tries.
const MaxNoise = 1e6

// NoiseForEpsilon returns the smallest noise multiplier σ (to a relative
// precision of 1e-6) for which steps steps at sampling rate q spend at most
// target ε at delta. It fails with an error saying the smallest reachable ε
// when even σ = MaxNoise does not reach the target.
func NoiseForEpsilon(target, q float64, steps int, delta float64, conv Conversion) (float64, error) {
	if !(target > 0) || math.IsInf(target, 1) {
		return 0, fmt.Errorf("privacy: target epsilon %v is not a finite number > 0", target)
	}
	if err := checkMechanism(q, 0, steps); err != nil {
		return 0, err
	}
	if !(delta > 0 && delta < 1) {
		return 0, fmt.Errorf("privacy: delta %v is not in (0, 1)", delta)
	}
	if steps == 0 || q == 0 {
		return 0, nil // nothing is released: no noise is needed
	}
	eps := func(s float64) (float64, error) {
		sp, err := Compute(q, s, steps, delta, conv)
		return sp.Epsilon, err
	}
	lo, hi := 0.0, 1.0
	for {
		e, err := eps(hi)
		if err != nil {
			return 0, err
		}
		if e <= target {
			break
		}
		if hi >= MaxNoise {
			return 0, fmt.Errorf("privacy: target epsilon %v at delta %v is unattainable in %d steps at sample rate %v: even noise multiplier %g gives epsilon %.4g",
				target, delta, steps, q, MaxNoise, e)
		}
		lo, hi = hi, math.Min(2*hi, MaxNoise)
	}
	for hi-lo > 1e-6*hi {
		mid := (lo + hi) / 2
		e, err := eps(mid)
		if err != nil {
			return 0, err
		}
		if e <= target {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, nil
}
