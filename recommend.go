package tapeml

import (
	"context"
	"fmt"
)

// Recommendation is one recommended item.
type Recommendation struct {
	Item  string  // the raw item id, as in the ratings file
	Title string  // from the item catalogue, when the model has one
	Score float32 // the ranking score (see recsys.Ranking)
}

// UserItem is a (user, item) pair of raw ids.
type UserItem struct{ User, Item string }

// Recommend returns up to n items the user has not rated in training, best
// first (recommenders). A user without training ratings gets the most
// popular items.
func (m *Model) Recommend(ctx context.Context, user string, n int) ([]Recommendation, error) {
	r := m.loaded.Recsys
	if r == nil {
		return nil, m.wrongKind("Recommend", "a recommender")
	}
	if n < 1 {
		return nil, fmt.Errorf("tapeml: Recommend: n must be at least 1, got %d", n)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	u := m.userIndex(user)
	var out []Recommendation
	for _, s := range r.Recommender.Recommend(u, n) {
		id := r.IDs.Items.Raw(s.Index)
		out = append(out, Recommendation{Item: id, Title: r.Items[id].Title, Score: float32(s.Score)})
	}
	return out, nil
}

// PredictRatings predicts the rating of each (user, item) pair
// (recommenders), clamped to the rating scale. An unknown user or item
// gets the bias model's prediction.
func (m *Model) PredictRatings(ctx context.Context, pairs []UserItem) ([]float32, error) {
	r := m.loaded.Recsys
	if r == nil {
		return nil, m.wrongKind("PredictRatings", "a recommender")
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("tapeml: PredictRatings: no pairs")
	}
	out := make([]float32, len(pairs))
	for k, p := range pairs {
		if k%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		i, ok := r.IDs.Items.Index(p.Item)
		if !ok {
			i = -1
		}
		out[k] = float32(r.Recommender.Predict(m.userIndex(p.User), i))
	}
	return out, nil
}

// userIndex is the user's index, or −1 (unknown: the fallbacks answer)
// when the user has no training ratings.
func (m *Model) userIndex(user string) int {
	r := m.loaded.Recsys
	u, ok := r.IDs.Users.Index(user)
	if !ok || r.Train.UserCount(u) == 0 {
		return -1
	}
	return u
}
