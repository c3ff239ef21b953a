package recsys

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/floats"
)

// Alternating least squares, for implicit feedback (IALSConfig, FitIALS)
// and for explicit ratings (ALSConfig, FitBiasedALS): each half-step
// solves one ridge regression per user (then per item) with the other
// side fixed. The systems are solved inexactly by a few steps of the
// conjugate gradient method warm-started from the previous iterate
// (Takács, Pilászy and Tikk, "Applications of the conjugate gradient
// method for implicit feedback collaborative filtering", 2011), as
// benfred/implicit does: a CG step costs O(n_u·F) for a user with n_u
// entries, where a direct solve costs O(n_u·F² + F³).
//
// Rows are solved on all cores, each row's solution a pure function of
// the previous iterate, so the factors do not depend on the number of
// threads or their scheduling.

// IALSConfig is implicit-feedback ALS (Hu, Koren and Volinsky,
// "Collaborative filtering for implicit feedback datasets", 2008): it
// minimizes
//
//	Σ_{u,i} c_ui (p_ui − x_u·y_i)² + Σ_u λ_u ‖x_u‖² + Σ_i λ_i ‖y_i‖²
//
// over every (user, item) pair, with preference p_ui = 1 where the user
// interacted with the item (weight w_ui > 0) and 0 elsewhere, and
// confidence c_ui = 1 + Alpha·w_ui there and 1 elsewhere. The
// regularization of a row grows with the weight its loss carries,
//
//	λ_u = Reg · (Σ_i (c_ui − 1) + n_items),  λ_i = Reg · (Σ_u (c_ui − 1) + n_users)
//
// (n_items: the items with interactions; the frequency scaling of Rendle
// et al., "Revisiting the performance of iALS on item recommendation
// benchmarks", 2022, with ν = 1), so that one Reg fits data of any size. A
// zero field takes its default.
type IALSConfig struct {
	Factors    int     `json:"factors"`    // latent factors; default 64
	Reg        float64 `json:"reg"`        // scaled regularization; default 0.01
	Alpha      float64 `json:"alpha"`      // confidence slope α; default: ForData's rule, or 2 without data
	Iterations int     `json:"iterations"` // alternations (users, then items); default 10
	CGSteps    int     `json:"cg_steps"`   // conjugate gradient steps per row and half-step; default 3
	InitStd    float64 `json:"init_std"`   // factors start N(0, InitStd²); default 0.01
	Seed       uint64  `json:"seed"`       // of the initial factors; default 1
}

// WithDefaults fills in zero fields.
func (c IALSConfig) WithDefaults() IALSConfig {
	if c.Factors == 0 {
		c.Factors = 64
	}
	if c.Reg == 0 {
		c.Reg = 0.01
	}
	if c.Alpha == 0 {
		c.Alpha = 2
	}
	if c.Iterations == 0 {
		c.Iterations = 10
	}
	if c.CGSteps == 0 {
		c.CGSteps = 3
	}
	if c.InitStd == 0 {
		c.InitStd = 0.01
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	return c
}

// ConfidenceShare is the rule of ForData: α is chosen so that the extra
// confidence of the interactions, α·Σw, is this share of the number of
// (user, item) cells, every one of which carries confidence 1. Measured
// on the synthetic sets of 100k to 25M ratings (docs/scale.md): the best
// α fell from about 20 on the sparsest (25M-like, density 0.002) to 0.5
// on the densest interaction log (weighted density 0.05), α·density
// staying near 0.02 to 0.03; a fixed α of 2 tied the popularity baseline
// at 25M and was too high at 100k.
const ConfidenceShare = 0.02

// Bounds of ForData's α.
const (
	minAutoAlpha = 0.1
	maxAutoAlpha = 100
)

// ForData fills in zero fields for the interactions of m: Alpha by the
// rule of ConfidenceShare, α = ConfidenceShare · users · items / Σ w_ui
// (counting the users and items with interactions; within [0.1, 100]),
// then WithDefaults. Sparser data get more confidence per interaction,
// so that the observed entries keep their weight against the unobserved
// ones, which grow with the catalogue.
func (c IALSConfig) ForData(m *Matrix) IALSConfig {
	if c.Alpha == 0 {
		c.Alpha = AutoAlpha(m)
	}
	return c.WithDefaults()
}

// AutoAlpha is ForData's α for the interactions of m (2, the default,
// for a matrix without any).
func AutoAlpha(m *Matrix) float64 {
	users, items := activeRows(m.NumUsers, m.UserRow), activeRows(m.NumItems, m.ItemColumn)
	var sw float64
	for u := 0; u < m.NumUsers; u++ {
		_, w := m.UserRow(u)
		for _, v := range w {
			sw += float64(v)
		}
	}
	if !(sw > 0) {
		return IALSConfig{}.WithDefaults().Alpha
	}
	return min(max(ConfidenceShare*float64(users)*float64(items)/sw, minAutoAlpha), maxAutoAlpha)
}

// Validate reports the first unusable field.
func (c IALSConfig) Validate() error {
	switch {
	case c.Factors < 1 || c.Factors > MaxFactors:
		return fmt.Errorf("ials: factors %d: want 1 to %d", c.Factors, MaxFactors)
	case !finiteNonNeg(c.Reg):
		return fmt.Errorf("ials: reg %v: want a finite number ≥ 0", c.Reg)
	case !finiteNonNeg(c.Alpha):
		return fmt.Errorf("ials: alpha %v: want a finite number ≥ 0", c.Alpha)
	case c.Iterations < 1 || c.Iterations > MaxIterations:
		return fmt.Errorf("ials: iterations %d: want 1 to %d", c.Iterations, MaxIterations)
	case c.CGSteps < 1 || c.CGSteps > MaxFactors:
		return fmt.Errorf("ials: cg_steps %d: want 1 to %d", c.CGSteps, MaxFactors)
	case !(c.InitStd > 0) || math.IsInf(c.InitStd, 0):
		return fmt.Errorf("ials: init_std %v: want a finite number > 0", c.InitStd)
	}
	return nil
}

// Limits of the factor models' configurations: a hostile configuration
// must not ask for unbounded work or memory (the tables themselves are
// bounded by the data: users × Factors).
const (
	MaxFactors    = 1024
	MaxIterations = 10000
)

func finiteNonNeg(v float64) bool { return v >= 0 && !math.IsInf(v, 0) }

// FitIALS factorizes the interactions of m (values: weights w_ui > 0);
// zero fields of cfg take ForData's values.
// progress, if not nil, is called after each iteration. A cancelled ctx
// stops it between half-steps.
func FitIALS(ctx context.Context, m *Matrix, cfg IALSConfig, progress func(iter int)) (*Implicit, error) {
	cfg = cfg.ForData(m)
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	f := cfg.Factors
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x1a15))
	x := normalTable(rng, m.NumUsers*f, cfg.InitStd)
	y := normalTable(rng, m.NumItems*f, cfg.InitStd)
	if err := runIALS(ctx, m, cfg, x, y, progress); err != nil {
		return nil, err
	}
	return newImplicit(m, AlgoIALS, f, x, y, nil, &cfg), nil
}

// runIALS alternates from the factors x [users, F] and y [items, F], in
// place. Rows without interactions are 0 throughout, so that they take no
// part in the other side's YᵀY.
func runIALS(ctx context.Context, m *Matrix, cfg IALSConfig, x, y []float64, progress func(int)) error {
	f := cfg.Factors
	for u := 0; u < m.NumUsers; u++ {
		if m.UserCount(u) == 0 {
			clear(x[u*f : (u+1)*f])
		}
	}
	for i := 0; i < m.NumItems; i++ {
		if m.ItemCount(i) == 0 {
			clear(y[i*f : (i+1)*f])
		}
	}
	users, items := activeRows(m.NumUsers, m.UserRow), activeRows(m.NumItems, m.ItemColumn)
	for it := 1; it <= cfg.Iterations; it++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		ialsHalf(m.NumUsers, m.UserRow, x, y, items, cfg)
		if err := ctx.Err(); err != nil {
			return err
		}
		ialsHalf(m.NumItems, m.ItemColumn, y, x, users, cfg)
		if progress != nil {
			progress(it)
		}
	}
	return nil
}

// ialsHalf solves, for each of n rows, x_r from the fixed other side y:
//
//	(YᵀY + Yᵀ(C_r − I)Y + λ_r I) x_r = Yᵀ C_r p_r
//
// where only the row's entries differ from the YᵀY every row shares.
func ialsHalf(n int, row func(int) ([]int32, []float32), x, y []float64, others int, cfg IALSConfig) {
	f := cfg.Factors
	gram := gramian(y, f)
	parallelRows(n, func(s *cgScratch, r int) {
		cols, w := row(r)
		xr := x[r*f : (r+1)*f]
		if len(cols) == 0 {
			clear(xr) // nothing to explain: p = 0 everywhere
			return
		}
		lambda := ialsLambda(cfg, w, others)
		b := s.b
		clear(b)
		for k, c := range cols {
			axpy(1+cfg.Alpha*float64(w[k]), y[int(c)*f:(int(c)+1)*f], b)
		}
		s.solve(xr, b, cfg.CGSteps, func(dst, v []float64) {
			symv(gram, v, dst)
			axpy(lambda, v, dst)
			for k, c := range cols {
				yc := y[int(c)*f : (int(c)+1)*f]
				axpy(cfg.Alpha*float64(w[k])*dot(yc, v), yc, dst)
			}
		})
	}, f)
}

// ialsLambda is λ_r for a row with weights w, given the number of rows of
// the other side that take part.
func ialsLambda(cfg IALSConfig, w []float32, others int) float64 {
	var sw float64
	for _, v := range w {
		sw += float64(v)
	}
	return cfg.Reg * (cfg.Alpha*sw + float64(others))
}

// activeRows counts the rows with entries.
func activeRows(n int, row func(int) ([]int32, []float32)) int {
	k := 0
	for r := 0; r < n; r++ {
		if cols, _ := row(r); len(cols) > 0 {
			k++
		}
	}
	return k
}

// ALSConfig is the alternating least squares solver of biased matrix
// factorization on explicit ratings, r̂_ui = μ + b_u + b_i + p_u·q_i,
// minimizing over the training ratings
//
//	Σ_{(u,i)} (r_ui − r̂_ui)² + Reg·(‖p_u‖² + b_u² + ‖q_i‖² + b_i²)
//
// — the objective of the MF network's SGD training (models/mf), whose
// penalty reaches each rating's own rows, so that a user with n_u ratings
// has Reg·n_u on their row (the weighted-λ regularization of Zhou et al.,
// "Large-scale parallel collaborative filtering for the Netflix Prize",
// 2008). μ stays fixed. A zero field takes its default.
type ALSConfig struct {
	Factors    int     `json:"factors"`    // latent factors; default 64
	Reg        float64 `json:"reg"`        // default 0.1
	Iterations int     `json:"iterations"` // alternations; default 15
	CGSteps    int     `json:"cg_steps"`   // conjugate gradient steps per row and half-step; default 3
	InitStd    float64 `json:"init_std"`   // factors start N(0, InitStd²), biases 0; default 0.1
	Seed       uint64  `json:"seed"`       // of the initial factors; default 1
}

// WithDefaults fills in zero fields.
func (c ALSConfig) WithDefaults() ALSConfig {
	if c.Factors == 0 {
		c.Factors = 64
	}
	if c.Reg == 0 {
		c.Reg = 0.1
	}
	if c.Iterations == 0 {
		c.Iterations = 15
	}
	if c.CGSteps == 0 {
		c.CGSteps = 3
	}
	if c.InitStd == 0 {
		c.InitStd = 0.1
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	return c
}

// Validate reports the first unusable field.
func (c ALSConfig) Validate() error {
	switch {
	case c.Factors < 1 || c.Factors > MaxFactors:
		return fmt.Errorf("als: factors %d: want 1 to %d", c.Factors, MaxFactors)
	case !finiteNonNeg(c.Reg):
		return fmt.Errorf("als: reg %v: want a finite number ≥ 0", c.Reg)
	case c.Iterations < 1 || c.Iterations > MaxIterations:
		return fmt.Errorf("als: iterations %d: want 1 to %d", c.Iterations, MaxIterations)
	case c.CGSteps < 1 || c.CGSteps > MaxFactors+1:
		return fmt.Errorf("als: cg_steps %d: want 1 to %d", c.CGSteps, MaxFactors+1)
	case !(c.InitStd > 0) || math.IsInf(c.InitStd, 0):
		return fmt.Errorf("als: init_std %v: want a finite number > 0", c.InitStd)
	}
	return nil
}

// BiasedFactors is a biased matrix factorization: r̂_ui = Mean + UserBias[u]
// + ItemBias[i] + User[u]·Item[i], the tables row-major [n, Factors].
type BiasedFactors struct {
	Mean               float64
	Factors            int
	User, Item         []float64
	UserBias, ItemBias []float64
}

// Predict is the unclipped prediction; out-of-range indices add nothing.
func (b *BiasedFactors) Predict(u, i int) float64 {
	p := b.Mean
	ku, ki := u >= 0 && u < len(b.UserBias), i >= 0 && i < len(b.ItemBias)
	if ku {
		p += b.UserBias[u]
	}
	if ki {
		p += b.ItemBias[i]
	}
	if ku && ki {
		p += dot(b.User[u*b.Factors:(u+1)*b.Factors], b.Item[i*b.Factors:(i+1)*b.Factors])
	}
	return p
}

// Clone returns a deep copy.
func (b *BiasedFactors) Clone() *BiasedFactors {
	c := *b
	c.User, c.Item = append([]float64(nil), b.User...), append([]float64(nil), b.Item...)
	c.UserBias, c.ItemBias = append([]float64(nil), b.UserBias...), append([]float64(nil), b.ItemBias...)
	return &c
}

// FitBiasedALS fits biased MF to the ratings of m around the fixed mean.
// after, if not nil, is called with the factors after each iteration (it
// must not keep them: they change; Clone them) and may stop the fit by
// returning an error. A cancelled ctx stops it between half-steps.
func FitBiasedALS(ctx context.Context, m *Matrix, mean float64, cfg ALSConfig, after func(iter int, f *BiasedFactors) error) (*BiasedFactors, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	f := cfg.Factors
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xa15))
	bf := &BiasedFactors{Mean: mean, Factors: f,
		User: normalTable(rng, m.NumUsers*f, cfg.InitStd), Item: normalTable(rng, m.NumItems*f, cfg.InitStd),
		UserBias: make([]float64, m.NumUsers), ItemBias: make([]float64, m.NumItems)}
	// Rows of [factors, bias], the unknowns of a half-step.
	users := augment(bf.User, bf.UserBias, f)
	items := augment(bf.Item, bf.ItemBias, f)
	for it := 1; it <= cfg.Iterations; it++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		biasedHalf(m.NumUsers, m.UserRow, users, items, mean, cfg)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		biasedHalf(m.NumItems, m.ItemColumn, items, users, mean, cfg)
		split(users, bf.User, bf.UserBias, f)
		split(items, bf.Item, bf.ItemBias, f)
		if after != nil {
			if err := after(it, bf); err != nil {
				return nil, err
			}
		}
	}
	return bf, nil
}

// augment packs factors [n, f] and biases [n] into rows [n, f+1].
func augment(factors, bias []float64, f int) []float64 {
	out := make([]float64, len(bias)*(f+1))
	for r := range bias {
		copy(out[r*(f+1):], factors[r*f:(r+1)*f])
		out[r*(f+1)+f] = bias[r]
	}
	return out
}

// split unpacks augment's rows.
func split(rows, factors, bias []float64, f int) {
	for r := range bias {
		copy(factors[r*f:(r+1)*f], rows[r*(f+1):r*(f+1)+f])
		bias[r] = rows[r*(f+1)+f]
	}
}

// biasedHalf solves, for each of n rows with entries, x_r = [p_r, b_r]
// from the fixed other side's rows [q_c, b_c] (taking z_c = [q_c, 1]):
//
//	(Σ_c z_c z_cᵀ + Reg·n_r·I) x_r = Σ_c (r_rc − μ − b_c) z_c
func biasedHalf(n int, row func(int) ([]int32, []float32), x, y []float64, mean float64, cfg ALSConfig) {
	f := cfg.Factors
	d := f + 1
	parallelRows(n, func(s *cgScratch, r int) {
		cols, vals := row(r)
		if len(cols) == 0 {
			return // untrained: never used (MF falls back to the biases of known rows)
		}
		xr := x[r*d : (r+1)*d]
		lambda := cfg.Reg * float64(len(cols))
		b := s.b
		clear(b)
		for k, c := range cols {
			yc := y[int(c)*d : (int(c)+1)*d]
			t := float64(vals[k]) - mean - yc[f]
			axpy(t, yc[:f], b[:f])
			b[f] += t
		}
		s.solve(xr, b, cfg.CGSteps, func(dst, v []float64) {
			for j := range dst {
				dst[j] = lambda * v[j]
			}
			for _, c := range cols {
				yc := y[int(c)*d : (int(c)+1)*d]
				z := dot(yc[:f], v[:f]) + v[f]
				axpy(z, yc[:f], dst[:f])
				dst[f] += z
			}
		})
	}, d)
}

// parallelRows calls solve for rows 0..n−1 on all cores, each worker with
// its own scratch of dimension dim. Rows are handed out in chunks as
// workers free up; a row's result does not depend on which worker solves
// it.
func parallelRows(n int, solve func(s *cgScratch, r int), dim int) {
	const chunk = 64
	workers := min(runtime.GOMAXPROCS(0), max(1, (n+chunk-1)/chunk))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := newCGScratch(dim)
			for {
				start := int(next.Add(chunk)) - chunk
				if start >= n {
					return
				}
				for r := start; r < min(start+chunk, n); r++ {
					solve(s, r)
				}
			}
		}()
	}
	wg.Wait()
}

// cgScratch is one worker's vectors for the conjugate gradient method.
type cgScratch struct{ b, r, p, ap []float64 }

func newCGScratch(dim int) *cgScratch {
	return &cgScratch{b: make([]float64, dim), r: make([]float64, dim), p: make([]float64, dim), ap: make([]float64, dim)}
}

// solve runs up to steps conjugate gradient iterations on A·x = b from x,
// in place, A symmetric positive definite given as mul(dst, v): dst = A·v.
// (b may be s.b.)
func (s *cgScratch) solve(x, b []float64, steps int, mul func(dst, v []float64)) {
	r, p, ap := s.r, s.p, s.ap
	mul(r, x)
	for j := range r {
		r[j] = b[j] - r[j]
	}
	copy(p, r)
	rsOld := dot(r, r)
	// The threshold of benfred/implicit: a residual this small is
	// converged in float32, and dividing by it would lose the solution.
	const tiny = 1e-20
	if rsOld < tiny {
		return
	}
	for it := 0; it < steps; it++ {
		mul(ap, p)
		pap := dot(p, ap)
		if !(pap > 0) {
			return // A is not positive definite along p (only without regularization): keep x
		}
		alpha := rsOld / pap
		axpy(alpha, p, x)
		axpy(-alpha, ap, r)
		rsNew := dot(r, r)
		if rsNew < tiny {
			return
		}
		beta := rsNew / rsOld
		for j := range p {
			p[j] = r[j] + beta*p[j]
		}
		rsOld = rsNew
	}
}

// gramian returns YᵀY [f, f] for y [n, f], summed in fixed chunks of rows
// added in order, so that it does not depend on the number of threads.
func gramian(y []float64, f int) []float64 {
	n := len(y) / f
	const chunk = 4096
	parts := make([][]float64, (n+chunk-1)/chunk)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.GOMAXPROCS(0), max(len(parts), 1)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c := int(next.Add(1)) - 1
				if c >= len(parts) {
					return
				}
				g := make([]float64, f*f)
				for r := c * chunk; r < min((c+1)*chunk, n); r++ {
					yr := y[r*f : (r+1)*f]
					for a, v := range yr {
						if v != 0 {
							axpy(v, yr, g[a*f:(a+1)*f])
						}
					}
				}
				parts[c] = g
			}
		}()
	}
	wg.Wait()
	g := make([]float64, f*f)
	for _, p := range parts {
		for j, v := range p {
			g[j] += v
		}
	}
	return g
}

// symv sets dst = A·v for a dense symmetric A [len(v), len(v)].
func symv(a, v, dst []float64) {
	f := len(v)
	for j := range dst {
		dst[j] = dot(a[j*f:(j+1)*f], v)
	}
}

// axpy adds a·x to y (y may be longer), by gonum's assembly kernel.
func axpy(a float64, x, y []float64) { floats.AddScaled(y[:len(x)], a, x) }

// normalTable is n draws of N(0, std²).
func normalTable(rng *rand.Rand, n int, std float64) []float64 {
	out := make([]float64, n)
	for j := range out {
		out[j] = rng.NormFloat64() * std
	}
	return out
}
