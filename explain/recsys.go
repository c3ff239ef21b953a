package explain

import (
	"context"
	"fmt"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/recommender"
)

// RecommendationExplanation relates a recommender's predicted rating of
// (User, Item) to the training ratings behind it.
type RecommendationExplanation = recommender.Explanation

// Contribution is one neighbour's or rated item's part.
type Contribution = recommender.Contribution

// Recommendation explains a recommender's prediction for (user, item):
// kNN's neighbours and MF's rated items through item-factor similarity. An
// unknown user or item is an error, as is an algorithm without an
// explanation (SVD).
func Recommendation(ctx context.Context, tm *tapeml.Model, user, item string) (RecommendationExplanation, error) {
	if err := checkContext(ctx, "Recommendation"); err != nil {
		return RecommendationExplanation{User: user, Item: item}, err
	}
	m := unwrap(tm)
	r, ok := m.c.Loaded.Codec.(interface {
		Explain(ctx context.Context, user, item string) (recommender.Explanation, error)
	})
	if !ok {
		return RecommendationExplanation{User: user, Item: item}, m.wrongKind("Recommendation", "a recommender")
	}
	out, err := r.Explain(ctx, user, item)
	if err != nil {
		return out, fmt.Errorf("explain: Recommendation: %w", err)
	}
	return out, nil
}
