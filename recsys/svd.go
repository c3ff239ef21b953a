package recsys

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// Centrings of the rating matrix SVD factorises (SVDConfig.Centre).
const (
	// CentreBaseline subtracts μ + b_u + b_i (the default).
	CentreBaseline = "baseline"
	// CentreUser subtracts each user's mean, as the reference did before
	// scipy's svds.
	CentreUser = "user"
)

// SVDConfig is a truncated SVD model. A zero field takes its default.
type SVDConfig struct {
	Factors int `json:"factors"` // singular triplets kept; default 20
	// Centre is what is subtracted from each rating before factorising,
	// "baseline" (default) or "user"; missing entries are 0 after
	// centring, i.e. predicted by the centre alone.
	Centre string `json:"centre"`
	// PowerIterations of the randomized range finder; more is closer to
	// the exact SVD; default 4.
	PowerIterations int `json:"power_iterations"`
	// Oversampling is the number of extra random directions; default 10.
	Oversampling int `json:"oversampling"`
	// Seed of the random directions; default 1.
	Seed uint64 `json:"seed"`
	// Ranking orders Recommend's items; default by expected relevance.
	Ranking Ranking `json:"ranking"`
}

// WithDefaults fills in zero fields.
func (c SVDConfig) WithDefaults() SVDConfig {
	if c.Factors == 0 {
		c.Factors = 20
	}
	if c.Centre == "" {
		c.Centre = CentreBaseline
	}
	if c.PowerIterations == 0 {
		c.PowerIterations = 4
	}
	if c.Oversampling == 0 {
		c.Oversampling = 10
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	c.Ranking = c.Ranking.WithDefaults()
	return c
}

// Validate reports the first unusable field.
func (c SVDConfig) Validate() error {
	switch {
	case c.Factors < 1:
		return fmt.Errorf("svd: factors must be at least 1, got %d", c.Factors)
	case c.Centre != CentreBaseline && c.Centre != CentreUser:
		return fmt.Errorf("svd: centre %q: want baseline or user", c.Centre)
	case c.PowerIterations < 0 || c.Oversampling < 0:
		return fmt.Errorf("svd: power_iterations %d and oversampling %d must not be negative", c.PowerIterations, c.Oversampling)
	}
	return c.Ranking.Validate()
}

// SVD is a truncated SVD of the centred rating matrix R − C ≈ U·diag(σ)·Vᵀ,
// predicting r̂_ui = c_ui + Σ_k U_uk σ_k V_ik. It is computed by the
// randomized range finder of Halko, Martinsson and Tropp (2011) with power
// iterations: only products of the sparse matrix with thin dense ones,
// then gonum's SVD of a (Factors+Oversampling) × items matrix, so memory
// grows as (users + items) × Factors and never as users × items.
type SVD struct {
	Config   SVDConfig
	Train    *Matrix
	Baseline *Baseline
	ranker   *Ranker
	userMean []float64
	k        int
	u, v     []float64 // row-major [users, k] and [items, k]
	sigma    []float64 // descending
}

// FitSVD factorises the centred training matrix.
func FitSVD(train *Matrix, scale Scale, cfg SVDConfig) (*SVD, error) {
	s, err := newSVD(train, scale, cfg)
	if err != nil {
		return nil, err
	}
	a := s.residuals()
	c := s.Config
	s.u, s.sigma, s.v = truncatedSVD(a, s.k, c.Oversampling, c.PowerIterations, c.Seed)
	return s, nil
}

func newSVD(train *Matrix, scale Scale, cfg SVDConfig) (*SVD, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &SVD{Config: cfg, Train: train, Baseline: FitBaseline(train, scale)}
	var err error
	if s.ranker, err = NewRanker(cfg.Ranking, train, s.Baseline); err != nil {
		return nil, err
	}
	s.userMean = rowMeans(train.NumUsers, train.UserRow, train.Mean)
	s.k = min(cfg.Factors, train.NumUsers, train.NumItems)
	return s, nil
}

// centre is c_ui.
func (s *SVD) centre(u, i int) float64 {
	if s.Config.Centre == CentreUser {
		return s.userMean[u]
	}
	return s.Baseline.Raw(u, i)
}

// residuals is the centred training matrix, by user.
func (s *SVD) residuals() *sparseMatrix {
	m := s.Train
	a := &sparseMatrix{rows: m.NumUsers, cols: m.NumItems, start: m.byUser.start, index: m.byUser.index,
		value: make([]float64, m.Len())}
	for u := 0; u < m.NumUsers; u++ {
		items, vals := m.UserRow(u)
		off := m.byUser.start[u]
		for k, i := range items {
			a.value[off+k] = float64(vals[k]) - s.centre(u, int(i))
		}
	}
	return a
}

// Predict is c_ui + Σ_k U_uk σ_k V_ik, clipped; unknown users or items get
// the baseline.
func (s *SVD) Predict(user, item int) float64 {
	return s.Baseline.Scale.Clip(s.raw(user, item))
}

func (s *SVD) raw(u, i int) float64 {
	b := s.Baseline
	if !b.KnownUser(u) || !b.KnownItem(i) {
		return b.Raw(u, i)
	}
	p := s.centre(u, i)
	uu, vi := s.u[u*s.k:(u+1)*s.k], s.v[i*s.k:(i+1)*s.k]
	for k, x := range uu {
		p += x * s.sigma[k] * vi[k]
	}
	return p
}

// Recommend ranks the known items (those the user has not rated, unless
// IncludeSeen) under the configured Ranking; an unknown user gets the
// most popular items.
func (s *SVD) Recommend(user, n int, seen Seen) []Scored {
	b := s.Baseline
	if !b.KnownUser(user) || n <= 0 {
		return b.Popular(s.Train, user, n, seen)
	}
	isSeen := s.Train.seenMask(user, seen)
	top := newTopN(n)
	for i := 0; i < s.Train.NumItems; i++ {
		if !isSeen[i] && b.KnownItem(i) {
			top.push(i, s.ranker.Score(i, s.raw(user, i)))
		}
	}
	return top.sorted()
}

// Describe names the ranking score (see Ranking.Describe).
func (s *SVD) Describe() (name, meaning string) { return s.Config.Ranking.Describe() }

// SimilarUsers ranks users by the cosine similarity of their rows of U·σ.
func (s *SVD) SimilarUsers(user, n int) []Scored {
	if !s.Baseline.KnownUser(user) {
		return nil
	}
	return CosineNeighbours(s.scaled(s.u), s.k, user, n, s.Baseline.KnownUser)
}

// SimilarItems ranks items by the cosine similarity of their rows of V·σ.
func (s *SVD) SimilarItems(item, n int) []Scored {
	if !s.Baseline.KnownItem(item) {
		return nil
	}
	return CosineNeighbours(s.scaled(s.v), s.k, item, n, s.Baseline.KnownItem)
}

func (s *SVD) scaled(f []float64) []float64 {
	out := make([]float64, len(f))
	for j, x := range f {
		out[j] = x * s.sigma[j%s.k]
	}
	return out
}

// SingularValues returns σ, descending.
func (s *SVD) SingularValues() []float64 { return append([]float64(nil), s.sigma...) }

// sparseMatrix is a float64 CSR matrix.
type sparseMatrix struct {
	rows, cols int
	start      []int
	index      []int32
	value      []float64
}

// mul returns A·X for X dense [cols, l] row-major, as [rows, l].
func (a *sparseMatrix) mul(x []float64, l int) []float64 {
	y := make([]float64, a.rows*l)
	for r := 0; r < a.rows; r++ {
		yr := y[r*l : (r+1)*l]
		for p := a.start[r]; p < a.start[r+1]; p++ {
			v, xr := a.value[p], x[int(a.index[p])*l:int(a.index[p]+1)*l]
			for j := range yr {
				yr[j] += v * xr[j]
			}
		}
	}
	return y
}

// mulT returns Aᵀ·Y for Y dense [rows, l], as [cols, l].
func (a *sparseMatrix) mulT(y []float64, l int) []float64 {
	z := make([]float64, a.cols*l)
	for r := 0; r < a.rows; r++ {
		yr := y[r*l : (r+1)*l]
		for p := a.start[r]; p < a.start[r+1]; p++ {
			v, zr := a.value[p], z[int(a.index[p])*l:int(a.index[p]+1)*l]
			for j := range zr {
				zr[j] += v * yr[j]
			}
		}
	}
	return z
}

// truncatedSVD returns the k leading singular triplets of a: U [rows, k],
// σ (descending) and V [cols, k], row-major.
func truncatedSVD(a *sparseMatrix, k, oversample, powerIters int, seed uint64) (u, sigma, v []float64) {
	l := min(k+oversample, a.rows, a.cols)
	rng := rand.New(rand.NewPCG(seed, 0x5fd))
	omega := make([]float64, a.cols*l)
	for j := range omega {
		omega[j] = rng.NormFloat64()
	}
	y := a.mul(omega, l)
	for q := 0; q < powerIters; q++ {
		orthonormalize(y, a.rows, l)
		z := a.mulT(y, l)
		orthonormalize(z, a.cols, l)
		y = a.mul(z, l)
	}
	orthonormalize(y, a.rows, l) // Q: an orthonormal basis of A's leading range
	bt := a.mulT(y, l)           // Bᵀ = Aᵀ·Q, [cols, l]
	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(a.cols, l, bt), mat.SVDThin) {
		// gonum reports non-convergence only for NaN input; the residuals
		// are finite, so this is a programmer error.
		panic("recsys: SVD of the projected matrix did not converge")
	}
	// Bᵀ = W Σ Zᵀ, so B = Z Σ Wᵀ and A ≈ Q B = (Q Z) Σ Wᵀ.
	var w, zm mat.Dense
	svd.UTo(&w)  // [cols, l]
	svd.VTo(&zm) // [l, l]
	vals := svd.Values(nil)
	sigma = vals[:k]
	v = make([]float64, a.cols*k)
	for c := 0; c < a.cols; c++ {
		for j := 0; j < k; j++ {
			v[c*k+j] = w.At(c, j)
		}
	}
	u = make([]float64, a.rows*k)
	for r := 0; r < a.rows; r++ {
		qr := y[r*l : (r+1)*l]
		for j := 0; j < k; j++ {
			var s float64
			for t, x := range qr {
				s += x * zm.At(t, j)
			}
			u[r*k+j] = s
		}
	}
	return u, sigma, v
}

// orthonormalize replaces the columns of x (row-major [n, l]) by an
// orthonormal basis of their span, by modified Gram–Schmidt applied twice
// (once is not enough in floating point). A column that vanishes (the span
// has lower rank) becomes zero.
func orthonormalize(x []float64, n, l int) {
	col := make([]float64, n)
	for j := 0; j < l; j++ {
		for r := 0; r < n; r++ {
			col[r] = x[r*l+j]
		}
		orig := math.Sqrt(dot(col, col))
		for pass := 0; pass < 2; pass++ {
			for i := 0; i < j; i++ {
				var d float64
				for r := 0; r < n; r++ {
					d += x[r*l+i] * col[r]
				}
				for r := 0; r < n; r++ {
					col[r] -= d * x[r*l+i]
				}
			}
		}
		norm := math.Sqrt(dot(col, col))
		scale := 0.0
		if norm > 1e-10*orig && norm > 0 {
			scale = 1 / norm
		}
		for r := 0; r < n; r++ {
			x[r*l+j] = col[r] * scale
		}
	}
}

// dot is a·b, by gonum's assembly kernel (b may be longer).
func dot(a, b []float64) float64 { return floats.Dot(a, b[:len(a)]) }
