package mf

import (
	"fmt"
	"slices"

	"github.com/tapeml/tapeml/recsys"
	"github.com/tapeml/tapeml/safetensors"
)

// Recommender serves a trained model's weights: the recsys.Recommender of
// matrix factorization. Predictions are μ + b_u + b_i + p_u·q_i computed
// in float64 from the float32 weights, clamped to the scale; a user or
// item without training ratings has untrained rows, so its bias and factors
// are left out (μ + b_i for an unknown user, μ + b_u for an unknown item).
// It is safe for concurrent use.
type Recommender struct {
	Config   Config
	Train    *recsys.Matrix
	Baseline *recsys.Baseline // counts and the popularity fallback
	ranker   *recsys.Ranker

	mu       float64
	userBias []float64
	itemBias []float64
	p, q     []float64 // row-major [users, F] and [items, F]
}

// NewRecommender reads the model's tensors (checkpoint.Weights of the trainer's
// parameters, or a checkpoint's Weights) for the training matrix they were
// trained on.
func NewRecommender(weights []safetensors.Tensor, cfg Config, trainSet *recsys.Matrix) (*Recommender, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if trainSet.NumUsers != cfg.Users || trainSet.NumItems != cfg.Items {
		return nil, fmt.Errorf("mf: the training matrix is %d users × %d items, the model %d × %d",
			trainSet.NumUsers, trainSet.NumItems, cfg.Users, cfg.Items)
	}
	read := func(name string, shape ...int) ([]float64, error) {
		t, ok := safetensors.Lookup(weights, name)
		if !ok {
			return nil, fmt.Errorf("mf: weights lack %q", name)
		}
		if !slices.Equal(t.Shape, shape) {
			return nil, fmt.Errorf("mf: %q has shape %v, the configuration needs %v", name, t.Shape, shape)
		}
		v, err := t.Float32s()
		if err != nil {
			return nil, fmt.Errorf("mf: %q: %w", name, err)
		}
		out := make([]float64, len(v))
		for k, x := range v {
			out[k] = float64(x)
		}
		return out, nil
	}
	r := &Recommender{Config: cfg, Train: trainSet, Baseline: recsys.FitBaseline(trainSet, cfg.Scale)}
	var err error
	if r.ranker, err = recsys.NewRanker(cfg.Ranking, trainSet, r.Baseline); err != nil {
		return nil, err
	}
	if r.p, err = read(UserFactors, cfg.Users, cfg.Factors); err != nil {
		return nil, err
	}
	if r.q, err = read(ItemFactors, cfg.Items, cfg.Factors); err != nil {
		return nil, err
	}
	if r.userBias, err = read(UserBias, cfg.Users, 1); err != nil {
		return nil, err
	}
	if r.itemBias, err = read(ItemBias, cfg.Items, 1); err != nil {
		return nil, err
	}
	mu, err := read(GlobalBias, 1)
	if err != nil {
		return nil, err
	}
	r.mu = mu[0]
	return r, nil
}

// raw is the unclamped prediction with the fallbacks.
func (r *Recommender) raw(u, i int) float64 {
	ku, ki := r.Baseline.KnownUser(u), r.Baseline.KnownItem(i)
	p := r.mu
	if ku {
		p += r.userBias[u]
	}
	if ki {
		p += r.itemBias[i]
	}
	if ku && ki {
		f := r.Config.Factors
		pu, qi := r.p[u*f:(u+1)*f], r.q[i*f:(i+1)*f]
		for k, x := range pu {
			p += x * qi[k]
		}
	}
	return p
}

// Predict returns μ + b_u + b_i + p_u·q_i clamped to the scale.
func (r *Recommender) Predict(user, item int) float64 { return r.Config.Scale.Clip(r.raw(user, item)) }

// Recommend ranks the items with training ratings (those the user has not
// rated, unless IncludeSeen) under the configured Ranking (by default
// expected relevance; by rating, the unclamped prediction orders them, so
// that items beyond the top of the scale keep their order). An unknown
// user gets the most popular items.
func (r *Recommender) Recommend(user, n int, seen recsys.Seen) []recsys.Scored {
	if !r.Baseline.KnownUser(user) || n <= 0 {
		return r.Baseline.Popular(r.Train, user, n, seen)
	}
	var rated []int32
	if seen == recsys.ExcludeSeen {
		rated, _ = r.Train.UserRow(user)
	}
	// A heap of n, not a sorted catalogue: Evaluate keeps every user's
	// list, and a slice of the whole catalogue behind each (61,000 items ×
	// 160,000 users at ml-25m's size) would be 157 GB.
	top := recsys.NewTopN(n)
	for i := 0; i < r.Config.Items; i++ {
		if !r.Baseline.KnownItem(i) {
			continue
		}
		if _, ok := slices.BinarySearch(rated, int32(i)); ok {
			continue
		}
		top.Push(i, r.ranker.Score(i, r.raw(user, i)))
	}
	return top.Sorted()
}

// Describe names the ranking score (see recsys.Ranking.Describe).
func (r *Recommender) Describe() (name, meaning string) { return r.Config.Ranking.Describe() }

// SimilarUsers ranks the other users with training ratings by the cosine
// similarity of their factor vectors p_u.
func (r *Recommender) SimilarUsers(user, n int) []recsys.Scored {
	if !r.Baseline.KnownUser(user) {
		return nil
	}
	return recsys.CosineNeighbours(r.p, r.Config.Factors, user, n, r.Baseline.KnownUser)
}

// SimilarItems ranks the other items with training ratings by the cosine
// similarity of their factor vectors q_i.
func (r *Recommender) SimilarItems(item, n int) []recsys.Scored {
	if !r.Baseline.KnownItem(item) {
		return nil
	}
	return recsys.CosineNeighbours(r.q, r.Config.Factors, item, n, r.Baseline.KnownItem)
}
