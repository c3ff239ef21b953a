package recsys

import (
	"fmt"
	"math"
	"slices"

	"github.com/tapeml/tapeml/safetensors"
)

// The implicit-feedback algorithms.
const (
	AlgoIALS = "ials" // FitIALS
	AlgoBPR  = "bpr"  // FitBPR
)

// Implicit is a factor model of interactions, fitted by iALS (FitIALS) or
// BPR (FitBPR): a user's preference for an item is the score
//
//	s_ui = p_u·q_i (+ b_i for BPR)
//
// which ranks items and is not a rating: iALS fits it to the 0/1
// preference (so it is near 1 for items like the user's), BPR only orders
// it. Predict returns it unclipped. A user without training interactions
// is recommended the most popular items. It is safe for concurrent use.
type Implicit struct {
	Algo     string
	Train    *Matrix
	Baseline *Baseline // interaction counts: the popularity fallback
	Factors  int
	user     []float64 // [users, F]
	item     []float64 // [items, F]
	itemBias []float64 // [items] (BPR); nil for iALS
	ials     *IALSConfig
}

func newImplicit(m *Matrix, algo string, f int, user, item, itemBias []float64, ials *IALSConfig) *Implicit {
	return &Implicit{Algo: algo, Train: m, Baseline: FitBaseline(m, Scale{}), Factors: f,
		user: user, item: item, itemBias: itemBias, ials: ials}
}

// Clone returns a copy whose tables are its own.
func (m *Implicit) Clone() *Implicit {
	c := *m
	c.user, c.item, c.itemBias = slices.Clone(m.user), slices.Clone(m.item), slices.Clone(m.itemBias)
	return &c
}

// blend moves m's tables towards src's: m ← keep·m + (1−keep)·src.
func (m *Implicit) blend(src *Implicit, keep float64) {
	mix := func(dst, x []float64) {
		for i, v := range x {
			dst[i] = keep*dst[i] + (1-keep)*v
		}
	}
	mix(m.user, src.user)
	mix(m.item, src.item)
	mix(m.itemBias, src.itemBias)
}

// WithTrain returns the model serving the training matrix t instead (of
// the same users and items): a model fitted on part of the training data
// — BPR's, whose rest validated it — excludes all of it from
// recommendations. Rows that have data in t but not in the fit keep what
// the fit gave rows without data (zero factors; for BPR, the lowest item
// bias).
func (m *Implicit) WithTrain(t *Matrix) (*Implicit, error) {
	if t.NumUsers != m.Train.NumUsers || t.NumItems != m.Train.NumItems {
		return nil, fmt.Errorf("%s: a %d × %d matrix for a model of %d × %d", m.Algo, t.NumUsers, t.NumItems, m.Train.NumUsers, m.Train.NumItems)
	}
	c := m.Clone()
	c.lowerUnseen()
	c.Train, c.Baseline = t, FitBaseline(t, Scale{})
	return c, nil
}

// lowerUnseen gives the items without data in the model's training
// matrix, which the fit never updated, the lowest item bias of the others
// (BPR): known later (WithTrain), they rank with the least favoured.
func (m *Implicit) lowerUnseen() {
	if m.itemBias == nil {
		return
	}
	lowest, any := math.Inf(1), false
	for i, b := range m.itemBias {
		if m.Train.ItemCount(i) > 0 {
			lowest, any = min(lowest, b), true
		}
	}
	for i := range m.itemBias {
		if any && m.Train.ItemCount(i) == 0 {
			m.itemBias[i] = lowest
		}
	}
}

// Score is s_ui for a known user and item, else 0.
func (m *Implicit) Score(u, i int) float64 {
	if !m.Baseline.KnownUser(u) || !m.Baseline.KnownItem(i) {
		return 0
	}
	return m.score(m.user[u*m.Factors:(u+1)*m.Factors], i)
}

func (m *Implicit) score(pu []float64, i int) float64 {
	s := dot(pu, m.item[i*m.Factors:(i+1)*m.Factors])
	if m.itemBias != nil {
		s += m.itemBias[i]
	}
	return s
}

// Describe names the ranking score and says what it is, for people
// reading a list.
func (m *Implicit) Describe() (name, meaning string) {
	if m.Algo == AlgoIALS {
		return "preference", "iALS's estimate of the user's 0/1 preference, p_u·q_i: near 1 for items like those the user interacted with (a ranking score, not a rating or a probability)"
	}
	return "preference", "BPR's score p_u·q_i + b_i: higher is ranked first; only its order means anything (not a rating or a probability)"
}

// Predict is the preference score s_ui (0 for an unknown user or item):
// an implicit model predicts no rating.
func (m *Implicit) Predict(user, item int) float64 { return m.Score(user, item) }

// Recommend ranks the items with training interactions by s_ui — those
// the user has not interacted with, unless IncludeSeen — keeping the best
// n in a heap as it scores the catalogue. An unknown user gets the most
// popular items, Score their interaction counts.
func (m *Implicit) Recommend(user, n int, seen Seen) []Scored {
	b := m.Baseline
	if !b.KnownUser(user) || n <= 0 {
		return b.Popular(m.Train, user, n, seen)
	}
	skip := m.Train.seenMask(user, seen)
	pu := m.user[user*m.Factors : (user+1)*m.Factors]
	top := newTopN(n)
	for i := 0; i < m.Train.NumItems; i++ {
		if !skip[i] && b.KnownItem(i) {
			top.push(i, m.score(pu, i))
		}
	}
	return top.sorted()
}

// SimilarUsers ranks users by the cosine similarity of their factors.
func (m *Implicit) SimilarUsers(user, n int) []Scored {
	if !m.Baseline.KnownUser(user) {
		return nil
	}
	return CosineNeighbours(m.user, m.Factors, user, n, m.Baseline.KnownUser)
}

// SimilarItems ranks items by the cosine similarity of their factors.
func (m *Implicit) SimilarItems(item, n int) []Scored {
	if !m.Baseline.KnownItem(item) {
		return nil
	}
	return CosineNeighbours(m.item, m.Factors, item, n, m.Baseline.KnownItem)
}

// Explain relates the score of (user, item) to the items the user
// interacted with, largest |Contribution| first.
//
// For iALS the decomposition is exact (Hu, Koren and Volinsky, §5): the
// user's factors solve (YᵀC_uY + λI) x_u = YᵀC_u p_u, so with
// W_u = (YᵀC_uY + λI)⁻¹
//
//	s_ui = y_iᵀ x_u = Σ_{j ∈ I_u} c_uj · (y_iᵀ W_u y_j)
//
// and each item j the user interacted with contributes c_uj·s^u_ij, the
// confidence times the similarity of i and j in the user's own metric.
// The sum is the exactly solved score, which exact gives; the stored
// factors came from a few conjugate gradient steps, so the served score
// differs from it slightly (the training's tolerance).
//
// For BPR, which has no such decomposition, an item j contributes
// cos(q_j, q_i): which of the user's items the factors tie to i, a reading
// of the factors, not a decomposition; exact is then the served score.
// ok is false for an unknown user or item.
func (m *Implicit) Explain(user, item int) (exact float64, cs []Contribution, ok bool) {
	b := m.Baseline
	if !b.KnownUser(user) || !b.KnownItem(item) {
		return 0, nil, false
	}
	f := m.Factors
	items, w := m.Train.UserRow(user)
	yi := m.item[item*f : (item+1)*f]
	if m.ials == nil {
		for k, j := range items {
			yj := m.item[int(j)*f : (int(j)+1)*f]
			c := cosine(yi, yj)
			cs = append(cs, Contribution{Index: int(j), Kind: ItemBased, Similarity: c, Rating: float64(w[k]), Contribution: c})
		}
		sortContributions(cs)
		return m.Score(user, item), cs, true
	}
	// W_u y_i by solving (YᵀC_uY + λI) z = y_i (symmetric: y_iᵀW_u = zᵀ).
	a := gramian(m.item, f)
	lambda := ialsLambda(*m.ials, w, activeRows(m.Train.NumItems, m.Train.ItemColumn))
	for k := 0; k < f; k++ {
		a[k*f+k] += lambda
	}
	for k, j := range items {
		yj := m.item[int(j)*f : (int(j)+1)*f]
		c := m.ials.Alpha * float64(w[k])
		for r, v := range yj {
			axpy(c*v, yj, a[r*f:(r+1)*f])
		}
	}
	z, err := solveSPD(a, yi)
	if err != nil {
		return 0, nil, false
	}
	for k, j := range items {
		yj := m.item[int(j)*f : (int(j)+1)*f]
		conf := 1 + m.ials.Alpha*float64(w[k])
		s := dot(z, yj)
		exact += conf * s
		cs = append(cs, Contribution{Index: int(j), Kind: ItemBased, Similarity: s, Rating: float64(w[k]), Contribution: conf * s})
	}
	sortContributions(cs)
	return exact, cs, true
}

func cosine(a, b []float64) float64 {
	na, nb := dot(a, a), dot(b, b)
	if na == 0 || nb == 0 {
		return 0
	}
	return dot(a, b) / math.Sqrt(na*nb)
}

// solveSPD solves A·x = b for a symmetric positive definite A [n, n] by
// Cholesky factorization, leaving A and b unchanged.
func solveSPD(a, b []float64) ([]float64, error) {
	n := len(b)
	l := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j <= i; j++ {
			s := a[i*n+j] - dot(l[i*n:i*n+j], l[j*n:j*n+j])
			if i == j {
				if !(s > 0) {
					return nil, fmt.Errorf("matrix not positive definite")
				}
				l[i*n+i] = math.Sqrt(s)
			} else {
				l[i*n+j] = s / l[j*n+j]
			}
		}
	}
	x := slices.Clone(b)
	for i := 0; i < n; i++ { // L y = b
		x[i] = (x[i] - dot(l[i*n:i*n+i], x[:i])) / l[i*n+i]
	}
	for i := n - 1; i >= 0; i-- { // Lᵀ x = y
		s := x[i]
		for k := i + 1; k < n; k++ {
			s -= l[k*n+i] * x[k]
		}
		x[i] = s / l[i*n+i]
	}
	return x, nil
}

// Tensor names of an implicit model.
const (
	tensorImplicitUser     = "implicit.user_factors"
	tensorImplicitItem     = "implicit.item_factors"
	tensorImplicitItemBias = "implicit.item_bias"
)

// Tensors returns the factors: implicit.user_factors [users, F] and
// implicit.item_factors [items, F], and BPR's implicit.item_bias [items].
func (m *Implicit) Tensors() []safetensors.Tensor {
	f32 := func(x []float64) []float32 {
		out := make([]float32, len(x))
		for j, v := range x {
			out[j] = float32(v)
		}
		return out
	}
	ts := []safetensors.Tensor{
		safetensors.F32(tensorImplicitUser, []int{m.Train.NumUsers, m.Factors}, f32(m.user)),
		safetensors.F32(tensorImplicitItem, []int{m.Train.NumItems, m.Factors}, f32(m.item)),
	}
	if m.itemBias != nil {
		ts = append(ts, safetensors.F32(tensorImplicitItemBias, []int{m.Train.NumItems}, f32(m.itemBias)))
	}
	return ts
}

// LoadImplicit rebuilds a fitted model of algo (AlgoIALS with its
// configuration, or AlgoBPR) from its Tensors and the training matrix it
// was fitted on; tensors that do not fit are an error naming from.
func LoadImplicit(train *Matrix, algo string, factors int, ials *IALSConfig, ts []safetensors.Tensor, from string) (*Implicit, error) {
	if factors < 1 || factors > MaxFactors {
		return nil, fmt.Errorf("%s: %d factors: want 1 to %d", from, factors, MaxFactors)
	}
	switch {
	case algo == AlgoIALS && ials == nil:
		return nil, fmt.Errorf("%s: ials without its configuration", from)
	case algo == AlgoIALS:
		c := ials.WithDefaults()
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", from, err)
		}
		ials = &c
	case algo != AlgoBPR:
		return nil, fmt.Errorf("%s: implicit algorithm %q: want ials or bpr", from, algo)
	}
	read := func(name string, shape ...int) ([]float64, error) {
		t, ok := safetensors.Lookup(ts, name)
		if !ok {
			return nil, fmt.Errorf("%s: no tensor %q", from, name)
		}
		if !slices.Equal(t.Shape, shape) {
			return nil, fmt.Errorf("%s: %q has shape %v, expected %v", from, name, t.Shape, shape)
		}
		v, err := t.Float32s()
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %w", from, name, err)
		}
		out := make([]float64, len(v))
		for j, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, fmt.Errorf("%s: %q holds %v at %d", from, name, x, j)
			}
			out[j] = float64(x)
		}
		return out, nil
	}
	user, err := read(tensorImplicitUser, train.NumUsers, factors)
	if err != nil {
		return nil, err
	}
	item, err := read(tensorImplicitItem, train.NumItems, factors)
	if err != nil {
		return nil, err
	}
	var bias []float64
	if algo == AlgoBPR {
		if bias, err = read(tensorImplicitItemBias, train.NumItems); err != nil {
			return nil, err
		}
	}
	return newImplicit(train, algo, factors, user, item, bias, ials), nil
}
