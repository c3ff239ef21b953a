package recsys

import (
	"fmt"
	"math"
)

// Ways Recommend may order items (Ranking.By).
const (
	// ByRelevance orders by the expected chance that the user rates the
	// item and finds it relevant (the default).
	ByRelevance = "relevance"
	// ByRating orders by predicted rating alone.
	ByRating = "rating"
)

// Ranking says how Recommend orders the items a user has not rated. A zero
// field takes its default.
//
// Ordering by predicted rating alone, the textbook rule, recommends obscure
// items that a few people loved: its lists hit far fewer of the items users
// go on to rate highly than plain popularity does (Cremonesi, Koren and
// Turrin, "Performance of recommender algorithms on top-N recommendation
// tasks", 2010), because what people rate is not missing at random. The
// default therefore scores an item by
//
//	P(u rates i) · P(r_ui ≥ Relevance | rated) ≈ n_i/n_users · Φ((r̂_ui − (Relevance − ¼)) / σ)
//
// the share of training users who rated i times the chance that a rating
// spread normally around the model's prediction r̂_ui, with σ the
// baseline's RMSE on the training ratings, rounds to Relevance or more
// (the ¼ is the half-star rounding). This is the expected contribution of
// the item to precision at k, the quantity the ranking metrics measure;
// popularity is the special case of a prediction that ignores the user.
type Ranking struct {
	By        string  `json:"by"`        // "relevance" (default) or "rating"
	Relevance float64 `json:"relevance"` // the rating from which an item is relevant; default 4
}

// WithDefaults fills in zero fields.
func (r Ranking) WithDefaults() Ranking {
	if r.By == "" {
		r.By = ByRelevance
	}
	if r.Relevance == 0 {
		r.Relevance = DefaultRelevance
	}
	return r
}

// Validate reports an unusable field.
func (r Ranking) Validate() error {
	if r.By != ByRelevance && r.By != ByRating {
		return fmt.Errorf("ranking: by %q: want relevance or rating", r.By)
	}
	if math.IsNaN(r.Relevance) || math.IsInf(r.Relevance, 0) {
		return fmt.Errorf("ranking: relevance must be a finite rating, got %v", r.Relevance)
	}
	return nil
}

// Describe names the ranking score and says what it is, for people
// reading a list.
func (r Ranking) Describe() (name, meaning string) {
	r = r.WithDefaults()
	if r.By == ByRating {
		return "predicted rating", "the rating the model predicts the user would give the item"
	}
	return "expected relevance", fmt.Sprintf("the chance that the user rates the item %g or more: the share of training users who rated it × the chance this user's rating reaches %g (not a rating)", r.Relevance, r.Relevance)
}

// Ranker turns a predicted rating into Recommend's score under a Ranking.
type Ranker struct {
	by        string
	threshold float64   // Relevance − ¼
	sigma     float64   // the spread of ratings around a prediction
	share     []float64 // per item: share of training users who rated it
}

// NewRanker prepares the scores for the training matrix m and its baseline.
func NewRanker(r Ranking, m *Matrix, b *Baseline) (*Ranker, error) {
	r = r.WithDefaults()
	if err := r.Validate(); err != nil {
		return nil, err
	}
	rk := &Ranker{by: r.By, threshold: r.Relevance - 0.25, share: make([]float64, m.NumItems)}
	users := 0
	for u := 0; u < m.NumUsers; u++ {
		if m.UserCount(u) > 0 {
			users++
		}
	}
	for i := range rk.share {
		if users > 0 {
			rk.share[i] = float64(m.ItemCount(i)) / float64(users)
		}
	}
	var sq float64
	for u := 0; u < m.NumUsers; u++ {
		items, vals := m.UserRow(u)
		for k, i := range items {
			d := float64(vals[k]) - b.Predict(u, int(i))
			sq += d * d
		}
	}
	rk.sigma = 1
	if m.Len() > 0 && sq > 0 {
		rk.sigma = math.Sqrt(sq / float64(m.Len()))
	}
	return rk, nil
}

// Score is the ranking score of item i with predicted (unclipped) rating
// predicted.
func (rk *Ranker) Score(i int, predicted float64) float64 {
	if rk.by == ByRating {
		return predicted
	}
	return rk.share[i] * 0.5 * math.Erfc(-(predicted-rk.threshold)/(rk.sigma*math.Sqrt2))
}
