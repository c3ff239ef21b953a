package recsys

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
)

// Negative sampling of BPR (BPRConfig.Negatives).
const (
	// NegUniform draws the negative item uniformly from the items with
	// interactions.
	NegUniform = "uniform"
	// NegPopularity draws it in proportion to its interactions (an
	// interaction's item, drawn uniformly), as benfred/implicit does: a
	// popular item the user passed over is the stronger evidence.
	NegPopularity = "popularity"
)

// BPRConfig is Bayesian personalized ranking (Rendle et al., "BPR:
// Bayesian personalized ranking from implicit feedback", 2009): for
// triples (u, i, j) of a user, an item the user interacted with and one
// the user did not, stochastic gradient ascent on
//
//	ln σ(s_ui − s_uj) − Reg·(‖p_u‖² + ‖q_i‖² + ‖q_j‖² + b_i² + b_j²)
//
// with s_ui = p_u·q_i + b_i. Interactions count once, whatever their
// weight. A zero field takes its default.
type BPRConfig struct {
	Factors   int     `json:"factors"`   // latent factors; default 64
	LR        float64 `json:"lr"`        // learning rate; default 0.02
	Reg       float64 `json:"reg"`       // default 0.03
	Epochs    int     `json:"epochs"`    // passes of one triple per interaction; default 200
	Negatives string  `json:"negatives"` // NegUniform (default) or NegPopularity
	// Candidates: the negative of a triple is the highest-scored of this
	// many draws (dynamic negative sampling, Zhang et al., "Optimizing
	// top-n collaborative filtering via dynamic negative item sampling",
	// 2013); 1 takes the first draw. Default 20: uniform negatives are
	// mostly items far down every list, already ranked below the
	// positive, so the triples that order the top of the list — the
	// popular items a user passed over — come too rarely (on 100k
	// synthetic ratings, BPR with one draw ranked below the popularity
	// baseline; docs/scale.md).
	Candidates int     `json:"candidates,omitempty"`
	InitStd    float64 `json:"init_std"` // factors start N(0, InitStd²), biases 0; default 0.1
	Seed       uint64  `json:"seed"`     // of the initialization and the sampling; default 1
	// Average: when > 0, the model is an exponential moving average of
	// the epochs' tables, avg ← Average·avg + (1−Average)·tables after each
	// epoch, instead of the last epoch's tables (which it leaves to train
	// on unchanged). 0 (the default): no averaging.
	Average float64 `json:"average,omitempty"`
}

// WithDefaults fills in zero fields.
func (c BPRConfig) WithDefaults() BPRConfig {
	if c.Factors == 0 {
		c.Factors = 64
	}
	if c.LR == 0 {
		c.LR = 0.02
	}
	if c.Reg == 0 {
		c.Reg = 0.03
	}
	if c.Epochs == 0 {
		c.Epochs = 200
	}
	if c.Negatives == "" {
		c.Negatives = NegUniform
	}
	if c.Candidates == 0 {
		c.Candidates = 20
	}
	if c.InitStd == 0 {
		c.InitStd = 0.1
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	return c
}

// ForData is c with the defaults that depend on the interactions of m:
// when more than WideItems items have interactions, a zero LR becomes
// WideLR and a zero Average WideAverage; then WithDefaults fills in the
// rest.
func (c BPRConfig) ForData(m *Matrix) BPRConfig {
	if activeRows(m.NumItems, m.ItemColumn) > WideItems {
		if c.LR == 0 {
			c.LR = WideLR
		}
		if c.Average == 0 {
			c.Average = WideAverage
		}
	}
	return c.WithDefaults()
}

// BPR's learning rate on a wide catalogue (ForData). An item row moves
// only when it is a triple's positive or its chosen negative, so on a
// catalogue of tens of thousands of items, most with a handful of
// interactions, lr 0.02 left the item factors near their start for
// many epochs: on the 25M preset at a tenth of the users (29,922 items
// with ratings ≥ 4) validation NDCG@10 stayed at 0.072 over 15 epochs,
// while lr 0.05 reached test NDCG@10 0.158 after 20 (popularity 0.137).
// On the 100k sets (≤ 10,210 items) 0.02 ranked better (0.3409 against
// 0.3340 on the log); the threshold lies between the two, and the 1M
// sets (3,900 items) keep 0.02 as measured (docs/scale.md).
//
// WideAverage: at that learning rate the last epoch's ranking swings from
// epoch to epoch (test NDCG@10 0.1494, 0.1417, 0.1492, 0.1536 after 20,
// 24, 28, 32 epochs at 25M), so the model kept is the tables' moving
// average: on the 25M preset at a tenth of the users it ranked higher at
// every evaluation from epoch 14 to 28 (e.g. 0.1654 / 0.1736 against
// 0.1580 / 0.1639 NDCG@10 after 20 / 26 epochs), slightly lower before,
// while the tables still moved fast (docs/scale.md).
const (
	WideItems   = 20_000
	WideLR      = 0.05
	WideAverage = 0.8
)

// Validate reports the first unusable field.
func (c BPRConfig) Validate() error {
	switch {
	case c.Factors < 1 || c.Factors > MaxFactors:
		return fmt.Errorf("bpr: factors %d: want 1 to %d", c.Factors, MaxFactors)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("bpr: lr %v: want a finite number > 0", c.LR)
	case !finiteNonNeg(c.Reg):
		return fmt.Errorf("bpr: reg %v: want a finite number ≥ 0", c.Reg)
	case c.Epochs < 1 || c.Epochs > MaxIterations:
		return fmt.Errorf("bpr: epochs %d: want 1 to %d", c.Epochs, MaxIterations)
	case c.Negatives != NegUniform && c.Negatives != NegPopularity:
		return fmt.Errorf("bpr: negatives %q: want uniform or popularity", c.Negatives)
	case c.Candidates < 1 || c.Candidates > MaxCandidates:
		return fmt.Errorf("bpr: candidates %d: want 1 to %d", c.Candidates, MaxCandidates)
	case !(c.InitStd > 0) || math.IsInf(c.InitStd, 0):
		return fmt.Errorf("bpr: init_std %v: want a finite number > 0", c.InitStd)
	case !(c.Average >= 0 && c.Average < 1):
		return fmt.Errorf("bpr: average %v: want 0 ≤ average < 1", c.Average)
	}
	return nil
}

// MaxCandidates bounds BPRConfig.Candidates (each costs a dot product per
// triple).
const MaxCandidates = 64

// BPREpoch is one epoch's record: the share of sampled triples the model
// ranked right before updating (a running training AUC) and how many
// were skipped (no negative found).
type BPREpoch struct {
	Epoch   int
	AUC     float64
	Skipped int
}

// FitBPR fits BPR to the interactions of m. The epochs are parallel and
// deterministic: with T = GOMAXPROCS workers, each epoch splits users and
// items into T random blocks and runs T strata, in each of which worker t
// updates the triples of user block t and item block t+s (mod T), the
// negatives drawn from the same item block — so no two workers touch the
// same row (distributed SGD as in Gemulla et al., "Large-scale matrix
// factorization with distributed stochastic gradient descent", 2011).
// The blocks are drawn afresh each epoch, so every pair of items is
// contrasted; a seed and a thread count give the same factors. after, if
// not nil, is called after each epoch with the model as it stands (its
// tables change with the next epoch: Clone to keep it) and stops the fit
// by returning true; a cancelled ctx stops it between strata.
func FitBPR(ctx context.Context, m *Matrix, cfg BPRConfig, after func(BPREpoch, *Implicit) bool) (*Implicit, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if m.Len() == 0 {
		return nil, fmt.Errorf("bpr: no interactions")
	}
	f := cfg.Factors
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xb9))
	user := normalTable(rng, m.NumUsers*f, cfg.InitStd)
	item := normalTable(rng, m.NumItems*f, cfg.InitStd)
	bias := make([]float64, m.NumItems)
	// Rows without interactions are never updated: 0, not noise.
	for u := 0; u < m.NumUsers; u++ {
		if m.UserCount(u) == 0 {
			clear(user[u*f : (u+1)*f])
		}
	}
	for i := 0; i < m.NumItems; i++ {
		if m.ItemCount(i) == 0 {
			clear(item[i*f : (i+1)*f])
		}
	}
	model := newImplicit(m, AlgoBPR, f, user, item, bias, nil)
	kept := model // what after sees and FitBPR returns: model, or its average
	t := min(runtime.GOMAXPROCS(0), m.NumUsers, m.NumItems)
	for e := 1; e <= cfg.Epochs; e++ {
		rec, err := bprEpoch(ctx, m, cfg, t, uint64(e), user, item, bias)
		if err != nil {
			return nil, err
		}
		if cfg.Average > 0 {
			if e == 1 {
				kept = model.Clone()
			} else {
				kept.blend(model, cfg.Average)
			}
		}
		if after != nil && after(rec, kept) {
			break
		}
	}
	kept.lowerUnseen()
	return kept, nil
}

// bprEpoch runs one epoch on t blocks.
func bprEpoch(ctx context.Context, m *Matrix, cfg BPRConfig, t int, epoch uint64, user, item, bias []float64) (BPREpoch, error) {
	rng := rand.New(rand.NewPCG(cfg.Seed, epoch<<8|0x1))
	ub := blocks(rng, m.NumUsers, t)
	ib := blocks(rng, m.NumItems, t)
	// pairs[a*t+b]: the interactions of user block a with item block b,
	// as (user, item).
	pairs := make([][][2]int32, t*t)
	for u := 0; u < m.NumUsers; u++ {
		items, _ := m.UserRow(u)
		for _, i := range items {
			k := int(ub[u])*t + int(ib[i])
			pairs[k] = append(pairs[k], [2]int32{int32(u), i})
		}
	}
	// The negatives of each item block: its items with interactions, or
	// one entry per interaction.
	negs := make([][]int32, t)
	if cfg.Negatives == NegUniform {
		for i := 0; i < m.NumItems; i++ {
			if m.ItemCount(i) > 0 {
				negs[ib[i]] = append(negs[ib[i]], int32(i))
			}
		}
	} else {
		for k, ps := range pairs {
			for _, p := range ps {
				negs[k%t] = append(negs[k%t], p[1])
			}
		}
	}
	var right, tried, skipped int
	var mu sync.Mutex
	for s := 0; s < t; s++ {
		if err := ctx.Err(); err != nil {
			return BPREpoch{}, err
		}
		var wg sync.WaitGroup
		for w := 0; w < t; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				b := (w + s) % t
				r := rand.New(rand.NewPCG(cfg.Seed, epoch<<32|uint64(s)<<16|uint64(w)<<1))
				ok, n, sk := bprBlock(r, m, cfg, pairs[w*t+b], negs[b], user, item, bias)
				mu.Lock()
				right, tried, skipped = right+ok, tried+n, skipped+sk
				mu.Unlock()
			}(w)
		}
		wg.Wait()
	}
	rec := BPREpoch{Epoch: int(epoch), Skipped: skipped}
	if tried > 0 {
		rec.AUC = float64(right) / float64(tried)
	}
	return rec, nil
}

// blocks assigns n rows to t blocks of near-equal size at random.
func blocks(rng *rand.Rand, n, t int) []int32 {
	out := make([]int32, n)
	for k, r := range rng.Perm(n) {
		out[r] = int32(k % t)
	}
	return out
}

// bprBlock runs SGD over one block's pairs in a random order, negatives
// from negs, and returns how many triples it ranked right before the
// update, how many it tried, and how many it skipped.
func bprBlock(r *rand.Rand, m *Matrix, cfg BPRConfig, pairs [][2]int32, negs []int32, user, item, bias []float64) (right, tried, skipped int) {
	if len(negs) == 0 {
		return 0, 0, len(pairs)
	}
	f := cfg.Factors
	lr, reg := cfg.LR, cfg.Reg
	order := r.Perm(len(pairs))
	for _, k := range order {
		u, i := int(pairs[k][0]), int(pairs[k][1])
		seen, _ := m.UserRow(u)
		pu := user[u*f : (u+1)*f]
		// A negative is an item the user did not interact with; a few
		// draws find one unless the user has nearly the whole block. Of
		// Candidates such items, the one the model ranks highest.
		j, sj := -1, math.Inf(-1)
		for c := 0; c < cfg.Candidates; c++ {
			for try := 0; try < 8; try++ {
				n := negs[r.IntN(len(negs))]
				if _, found := slices.BinarySearch(seen, n); found {
					continue
				}
				if cfg.Candidates == 1 {
					j = int(n)
				} else if s := bias[n] + dot(pu, item[int(n)*f:(int(n)+1)*f]); s > sj {
					j, sj = int(n), s
				}
				break
			}
		}
		if j < 0 {
			skipped++
			continue
		}
		qi, qj := item[i*f:(i+1)*f], item[j*f:(j+1)*f]
		x := bias[i] - bias[j]
		for k := range pu {
			x += pu[k] * (qi[k] - qj[k])
		}
		tried++
		if x > 0 {
			right++
		}
		z := 1 / (1 + math.Exp(x)) // σ(−x): the gradient of ln σ(x)
		for k := range pu {
			p := pu[k]
			pu[k] += lr * (z*(qi[k]-qj[k]) - reg*p)
			qi[k] += lr * (z*p - reg*qi[k])
			qj[k] += lr * (-z*p - reg*qj[k])
		}
		bias[i] += lr * (z - reg*bias[i])
		bias[j] += lr * (-z - reg*bias[j])
	}
	return right, tried, skipped
}
