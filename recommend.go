package tapeml

import (
	"context"
	"fmt"

	"github.com/tapeml/tapeml/api"
	"github.com/tapeml/tapeml/kinds"
)

// Recommend returns up to n items the user has not rated in training, best
// first (recommenders). A user without training ratings gets the most
// popular items.
func (m *Model) Recommend(ctx context.Context, user string, n int) ([]Recommendation, error) {
	if err := checkContext(ctx, "Recommend"); err != nil {
		return nil, err
	}
	r, ok := m.c.Loaded.Codec.(kinds.Recommender)
	if !ok {
		return nil, m.wrongKind("Recommend", "a recommender")
	}
	if n < 1 {
		return nil, fmt.Errorf("tapeml: Recommend: n must be at least 1, got %d", n)
	}
	return r.Recommend(ctx, user, n)
}

// PredictRatings predicts the rating of each (user, item) pair
// (recommenders), clamped to the rating scale. An unknown user or item
// gets the bias model's prediction.
func (m *Model) PredictRatings(ctx context.Context, pairs []UserItem) ([]float32, error) {
	if err := checkContext(ctx, "PredictRatings"); err != nil {
		return nil, err
	}
	r, ok := m.c.Loaded.Codec.(kinds.Recommender)
	if !ok {
		return nil, m.wrongKind("PredictRatings", "a recommender")
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("tapeml: PredictRatings: no pairs")
	}
	return r.PredictRatings(ctx, pairs)
}

// KnowsUser reports whether a recommender has training ratings of the
// user (an unknown user is recommended popular items); false for other
// models.
func (m *Model) KnowsUser(user string) bool {
	r, ok := m.c.Loaded.Codec.(kinds.Recommender)
	return ok && r.KnowsUser(user)
}

// SimilarUsers lists up to n users most like user, most similar first
// (recommenders; none for algorithms without a user similarity).
func (m *Model) SimilarUsers(ctx context.Context, user string, n int) ([]api.Neighbour, error) {
	if err := checkContext(ctx, "SimilarUsers"); err != nil {
		return nil, err
	}
	r, ok := m.c.Loaded.Codec.(kinds.Recommender)
	if !ok {
		return nil, m.wrongKind("SimilarUsers", "a recommender")
	}
	return r.SimilarUsers(ctx, user, n)
}

// SimilarItems lists up to n items most like item, most similar first
// (recommenders; none for algorithms without an item similarity).
func (m *Model) SimilarItems(ctx context.Context, item string, n int) ([]api.Neighbour, error) {
	if err := checkContext(ctx, "SimilarItems"); err != nil {
		return nil, err
	}
	r, ok := m.c.Loaded.Codec.(kinds.Recommender)
	if !ok {
		return nil, m.wrongKind("SimilarItems", "a recommender")
	}
	return r.SimilarItems(ctx, item, n)
}
