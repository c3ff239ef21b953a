package recsys

import (
	"fmt"
	"math"
	"runtime"
	"sync"
)

// Neighbourhood bases and similarities accepted in KNNConfig.
const (
	UserBased = "user"
	ItemBased = "item"
	Cosine    = "cosine"
	Pearson   = "pearson"
)

// KNNConfig is a neighbourhood model. A zero field takes its default.
type KNNConfig struct {
	// Based is "user" (user–user, the default) or "item" (item–item).
	Based string `json:"based"`
	// Similarity is "pearson" (the default: Pearson correlation over the
	// co-rated entries, with their own means) or "cosine" (cosine of the
	// user-mean-centred rating vectors, missing entries 0: for items this
	// is the adjusted cosine).
	Similarity string `json:"similarity"`
	// K is the number of neighbours a prediction averages over: the K most
	// similar among those who rated the item (user-based) or among the
	// items the user rated (item-based); default 40.
	K int `json:"k"`
	// Shrinkage multiplies a similarity by n/(n+Shrinkage), n being the
	// number of co-rated entries, so that similarities resting on a few
	// ratings count less; default 100, negative for none.
	Shrinkage float64 `json:"shrinkage"`
	// MinSupport is the fewest co-rated entries a pair needs to be
	// neighbours; default 2.
	MinSupport int `json:"min_support"`
	// Keep is the number of most similar neighbours stored per user (or
	// item); predictions look for their K among these; default 400.
	Keep int `json:"keep"`
	// Ranking orders Recommend's items; default by expected relevance.
	Ranking Ranking `json:"ranking"`
}

// DefaultKNN is the default neighbourhood configuration, written out.
func DefaultKNN() KNNConfig { return KNNConfig{}.WithDefaults() }

// WithDefaults fills in zero fields.
func (c KNNConfig) WithDefaults() KNNConfig {
	if c.Based == "" {
		c.Based = UserBased
	}
	if c.Similarity == "" {
		c.Similarity = Pearson
	}
	if c.K == 0 {
		c.K = 40
	}
	if c.Shrinkage == 0 {
		c.Shrinkage = 100
	}
	if c.MinSupport == 0 {
		c.MinSupport = 2
	}
	if c.Keep == 0 {
		c.Keep = 400
	}
	c.Ranking = c.Ranking.WithDefaults()
	return c
}

// Validate reports the first unusable field.
func (c KNNConfig) Validate() error {
	switch {
	case c.Based != UserBased && c.Based != ItemBased:
		return fmt.Errorf("knn: based %q: want user or item", c.Based)
	case c.Similarity != Pearson && c.Similarity != Cosine:
		return fmt.Errorf("knn: similarity %q: want pearson or cosine", c.Similarity)
	case c.K < 1:
		return fmt.Errorf("knn: k must be at least 1, got %d", c.K)
	case c.MinSupport < 1:
		return fmt.Errorf("knn: min_support must be at least 1, got %d", c.MinSupport)
	case c.Keep < c.K:
		return fmt.Errorf("knn: keep %d must be at least k %d", c.Keep, c.K)
	case math.IsNaN(c.Shrinkage) || math.IsInf(c.Shrinkage, 0):
		return fmt.Errorf("knn: shrinkage must be a finite number, got %v", c.Shrinkage)
	}
	return c.Ranking.Validate()
}

// KNN is a neighbourhood model: user–user or item–item similarities on the
// sparse rating vectors, and mean-centred predictions
//
//	user-based: r̂_ui = μ_u + Σ_v s_uv (r_vi − μ_v) / Σ_v |s_uv|
//	item-based: r̂_ui = μ_i + Σ_j s_ij (r_uj − μ_j) / Σ_j |s_ij|
//
// over the K most similar neighbours that rated i (that u rated). Only
// positive similarities make neighbours. Without any neighbour the
// prediction is the baseline μ + b_u + b_i.
//
// Similarities are computed one row at a time through the inverted index
// (a user's items, then each item's users), in Σ_i n_i² steps for n_i
// ratings of item i, on all cores; only each row's Keep best are stored, so
// memory grows as users × Keep, never users².
type KNN struct {
	Config   KNNConfig
	Train    *Matrix
	Baseline *Baseline
	ranker   *Ranker
	means    []float64 // per user (user-based) or item (item-based)
	userMean []float64 // for centring (cosine)
	// norms of the user-centred rows, per user and per item (cosine only)
	userNorm, itemNorm []float64
	// Neighbour lists, most similar first: entity e's are
	// nbrIndex[nbrStart[e]:nbrStart[e+1]].
	nbrStart []int
	nbrIndex []int32
	nbrSim   []float32
}

// FitKNN computes the neighbour lists of train.
func FitKNN(train *Matrix, scale Scale, cfg KNNConfig) (*KNN, error) {
	k, err := newKNN(train, scale, cfg)
	if err != nil {
		return nil, err
	}
	s := k.side(k.Config.Based)
	rows := make([][]Scored, s.n)
	workers := min(runtime.GOMAXPROCS(0), max(s.n, 1))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			acc := newSimAccumulator(s.n)
			for e := w; e < s.n; e += workers {
				rows[e] = k.similarRow(s, e, k.Config.Keep, acc)
			}
		}(w)
	}
	wg.Wait()
	k.nbrStart = make([]int, s.n+1)
	for e, r := range rows {
		k.nbrStart[e+1] = k.nbrStart[e] + len(r)
	}
	k.nbrIndex = make([]int32, k.nbrStart[s.n])
	k.nbrSim = make([]float32, k.nbrStart[s.n])
	for e, r := range rows {
		for j, sc := range r {
			k.nbrIndex[k.nbrStart[e]+j] = int32(sc.Index)
			k.nbrSim[k.nbrStart[e]+j] = float32(sc.Score)
		}
	}
	return k, nil
}

func newKNN(train *Matrix, scale Scale, cfg KNNConfig) (*KNN, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	k := &KNN{Config: cfg, Train: train, Baseline: FitBaseline(train, scale)}
	var err error
	if k.ranker, err = NewRanker(cfg.Ranking, train, k.Baseline); err != nil {
		return nil, err
	}
	k.userMean = rowMeans(train.NumUsers, train.UserRow, train.Mean)
	if cfg.Based == UserBased {
		k.means = k.userMean
	} else {
		k.means = rowMeans(train.NumItems, train.ItemColumn, train.Mean)
	}
	if cfg.Similarity == Cosine {
		k.userNorm = make([]float64, train.NumUsers)
		k.itemNorm = make([]float64, train.NumItems)
		for u := range k.userNorm {
			items, vals := train.UserRow(u)
			for j, i := range items {
				x := float64(vals[j]) - k.userMean[u]
				k.userNorm[u] += x * x
				k.itemNorm[i] += x * x
			}
		}
		for u, v := range k.userNorm {
			k.userNorm[u] = math.Sqrt(v)
		}
		for i, v := range k.itemNorm {
			k.itemNorm[i] = math.Sqrt(v)
		}
	}
	return k, nil
}

// rowMeans is the mean of every row; empty rows get def.
func rowMeans(n int, row func(int) ([]int32, []float32), def float64) []float64 {
	out := make([]float64, n)
	for r := range out {
		_, vals := row(r)
		if len(vals) == 0 {
			out[r] = def
			continue
		}
		var s float64
		for _, v := range vals {
			s += float64(v)
		}
		out[r] = s / float64(len(vals))
	}
	return out
}

// side is one direction of the matrix: users (rows: their items) or items
// (rows: their users).
type side struct {
	n      int
	row    func(int) ([]int32, []float32)
	isUser bool
	other  *side
}

func (k *KNN) side(based string) *side {
	m := k.Train
	users := &side{n: m.NumUsers, row: m.UserRow, isUser: true}
	items := &side{n: m.NumItems, row: m.ItemColumn}
	users.other, items.other = items, users
	if based == UserBased {
		return users
	}
	return items
}

// simAccumulator holds one row's sums per candidate neighbour.
type simAccumulator struct {
	n                     []int32
	sx, sy, sxx, syy, sxy []float64
	touched               []int32
}

func newSimAccumulator(n int) *simAccumulator {
	return &simAccumulator{n: make([]int32, n), sx: make([]float64, n), sy: make([]float64, n),
		sxx: make([]float64, n), syy: make([]float64, n), sxy: make([]float64, n)}
}

// similarRow returns the keep most similar entities to e on side s, with
// positive similarities, best first.
func (k *KNN) similarRow(s *side, e, keep int, acc *simAccumulator) []Scored {
	cfg := k.Config
	pearson := cfg.Similarity == Pearson
	// Cosine works on user-centred ratings: for user-based rows the row's
	// own mean, for item-based rows each context user's mean.
	centre := func(ent, ctx int32) float64 {
		if s.isUser {
			return k.userMean[ent]
		}
		return k.userMean[ctx]
	}
	cols, vals := s.row(e)
	for j, c := range cols {
		x := float64(vals[j])
		if !pearson {
			x -= centre(int32(e), c)
		}
		others, ovals := s.other.row(int(c))
		for t, o := range others {
			if int(o) == e {
				continue
			}
			y := float64(ovals[t])
			if !pearson {
				y -= centre(o, c)
			}
			if acc.n[o] == 0 {
				acc.touched = append(acc.touched, o)
			}
			acc.n[o]++
			acc.sxy[o] += x * y
			if pearson {
				acc.sx[o] += x
				acc.sy[o] += y
				acc.sxx[o] += x * x
				acc.syy[o] += y * y
			}
		}
	}
	top := newTopN(keep)
	for _, o := range acc.touched {
		n := float64(acc.n[o])
		var sim float64
		if int(acc.n[o]) >= cfg.MinSupport {
			if pearson {
				num := acc.sxy[o] - acc.sx[o]*acc.sy[o]/n
				den := (acc.sxx[o] - acc.sx[o]*acc.sx[o]/n) * (acc.syy[o] - acc.sy[o]*acc.sy[o]/n)
				if den > 1e-12 {
					sim = num / math.Sqrt(den)
				}
			} else {
				sim = acc.sxy[o] // divided by the norms below
			}
		}
		acc.n[o], acc.sx[o], acc.sy[o], acc.sxx[o], acc.syy[o], acc.sxy[o] = 0, 0, 0, 0, 0, 0
		if sim == 0 {
			continue
		}
		if !pearson {
			ne, no := k.centredNorm(s, e), k.centredNorm(s, int(o))
			if ne == 0 || no == 0 {
				continue
			}
			sim /= ne * no
		}
		if cfg.Shrinkage > 0 {
			sim *= n / (n + cfg.Shrinkage)
		}
		if sim > 0 {
			top.push(int(o), sim)
		}
	}
	acc.touched = acc.touched[:0]
	return top.sorted()
}

// centredNorm is the L2 norm of row r's user-centred ratings.
func (k *KNN) centredNorm(s *side, r int) float64 {
	if s.isUser {
		return k.userNorm[r]
	}
	return k.itemNorm[r]
}

// neighbours returns entity e's stored list.
func (k *KNN) neighbours(e int) ([]int32, []float32) {
	if e < 0 || e+1 >= len(k.nbrStart) {
		return nil, nil
	}
	a, b := k.nbrStart[e], k.nbrStart[e+1]
	return k.nbrIndex[a:b], k.nbrSim[a:b]
}

// Predict is the mean-centred neighbourhood average, clipped.
func (k *KNN) Predict(user, item int) float64 {
	b := k.Baseline
	if !b.KnownUser(user) || !b.KnownItem(item) {
		return b.Predict(user, item)
	}
	e, target := user, item
	rated := func(nb int32) (float32, bool) { return k.Train.Rating(int(nb), target) }
	if k.Config.Based == ItemBased {
		e, target = item, user
		rated = func(nb int32) (float32, bool) { return k.Train.Rating(target, int(nb)) }
	}
	idx, sims := k.neighbours(e)
	var num, den float64
	found := 0
	for j, nb := range idx {
		r, ok := rated(nb)
		if !ok {
			continue
		}
		s := float64(sims[j])
		num += s * (float64(r) - k.means[nb])
		den += s
		if found++; found == k.Config.K {
			break
		}
	}
	if found == 0 {
		return b.Predict(user, item)
	}
	return b.Scale.Clip(k.means[e] + num/den)
}

// Recommend ranks the known items (those the user has not rated, unless
// IncludeSeen) under the configured Ranking, each with its Predict rating
// (the baseline where no neighbour rated the item). An unknown user gets
// the most popular items.
func (k *KNN) Recommend(user, n int, seen Seen) []Scored {
	b := k.Baseline
	if !b.KnownUser(user) || n <= 0 {
		return b.Popular(k.Train, user, n, seen)
	}
	nItems := k.Train.NumItems
	rated, ratedVals := k.Train.UserRow(user)
	skip := k.Train.seenMask(user, seen)
	pred := make([]float64, nItems)
	has := make([]bool, nItems)
	if k.Config.Based == UserBased {
		num := make([]float64, nItems)
		den := make([]float64, nItems)
		count := make([]int32, nItems)
		idx, sims := k.neighbours(user)
		for j, v := range idx {
			items, vals := k.Train.UserRow(int(v))
			s := float64(sims[j])
			for t, i := range items {
				if skip[i] || int(count[i]) >= k.Config.K {
					continue // neighbours come best first: the first K are the K nearest
				}
				count[i]++
				num[i] += s * (float64(vals[t]) - k.means[v])
				den[i] += s
			}
		}
		for i, c := range count {
			if c > 0 {
				pred[i], has[i] = k.means[user]+num[i]/den[i], true
			}
		}
	} else {
		isRated := make([]bool, nItems)
		rating := make([]float32, nItems)
		for t, i := range rated {
			isRated[i], rating[i] = true, ratedVals[t]
		}
		for i := 0; i < nItems; i++ {
			if skip[i] || !b.KnownItem(i) {
				continue
			}
			idx, sims := k.neighbours(i)
			var num, den float64
			found := 0
			for j, nb := range idx {
				if !isRated[nb] {
					continue
				}
				s := float64(sims[j])
				num += s * (float64(rating[nb]) - k.means[nb])
				den += s
				if found++; found == k.Config.K {
					break
				}
			}
			if found > 0 {
				pred[i], has[i] = k.means[i]+num/den, true
			}
		}
	}
	top := newTopN(n)
	for i := 0; i < nItems; i++ {
		if skip[i] || !b.KnownItem(i) {
			continue
		}
		p := pred[i]
		if !has[i] {
			p = b.Raw(user, i)
		}
		top.push(i, k.ranker.Score(i, p))
	}
	return top.sorted()
}

// Describe names the ranking score (see Ranking.Describe).
func (k *KNN) Describe() (name, meaning string) { return k.Config.Ranking.Describe() }

// SimilarUsers returns the most similar users: the stored list for a
// user-based model, computed on the fly for an item-based one.
func (k *KNN) SimilarUsers(user, n int) []Scored { return k.similar(UserBased, user, n) }

// SimilarItems returns the most similar items.
func (k *KNN) SimilarItems(item, n int) []Scored { return k.similar(ItemBased, item, n) }

func (k *KNN) similar(based string, e, n int) []Scored {
	known := k.Baseline.KnownUser
	if based == ItemBased {
		known = k.Baseline.KnownItem
	}
	if !known(e) || n <= 0 {
		return nil
	}
	if based == k.Config.Based {
		idx, sims := k.neighbours(e)
		out := make([]Scored, 0, min(n, len(idx)))
		for j := 0; j < len(idx) && j < n; j++ {
			out = append(out, Scored{int(idx[j]), float64(sims[j])})
		}
		return out
	}
	s := k.side(based)
	return k.similarRow(s, e, n, newSimAccumulator(s.n))
}

// Neighbours returns the stored neighbour list of a user (user-based) or
// item (item-based), for inspection and tests.
func (k *KNN) Neighbours(e int) []Scored {
	idx, sims := k.neighbours(e)
	out := make([]Scored, len(idx))
	for j := range idx {
		out[j] = Scored{int(idx[j]), float64(sims[j])}
	}
	return out
}
