package tapeml

import (
	"context"
	"fmt"

	"github.com/tapeml/tapeml/models/mf"
	"github.com/tapeml/tapeml/recsys"
)

// RecommendationExplanation relates a recommender's predicted rating of
// (User, Item) to the training ratings behind it.
type RecommendationExplanation struct {
	User       string  `json:"user"`
	Item       string  `json:"item"`
	Prediction float64 `json:"prediction"` // clamped to the rating scale
	Method     string  `json:"method"`
	// Contributions, largest |Contribution| first: for kNN the neighbours
	// the prediction averages over (user-based: users who rated the item;
	// item-based: items the user rated), whose contributions and Centre add
	// up to the unclamped prediction; for MF the items the user rated,
	// scored by their item-factor similarity with Item (see
	// models/recsys.Recommender.Explain — not a decomposition).
	Contributions []Contribution `json:"contributions"`
	Centre        float64        `json:"centre,omitempty"` // kNN: the mean the neighbours' terms are added to
	Terms         *mf.Terms      `json:"terms,omitempty"`  // MF: μ, b_u, b_i and p_u·q_i
	Note          string         `json:"note,omitempty"`
}

// Contribution is one neighbour's or rated item's part.
type Contribution struct {
	Kind         string  `json:"kind"` // "user" or "item"
	ID           string  `json:"id"`
	Title        string  `json:"title,omitempty"`
	Similarity   float64 `json:"similarity"`
	Rating       float64 `json:"rating"`
	Contribution float64 `json:"contribution"`
}

// ExplainRecommendation explains a recommender's prediction for (user,
// item): kNN's neighbours and MF's rated items through item-factor
// similarity. An unknown user or item is an error, as is an algorithm
// without an explanation (SVD).
func (m *Model) ExplainRecommendation(ctx context.Context, user, item string) (RecommendationExplanation, error) {
	r := m.loaded.Recsys
	out := RecommendationExplanation{User: user, Item: item}
	if r == nil {
		return out, m.wrongKind("ExplainRecommendation", "a recommender")
	}
	if err := ctx.Err(); err != nil {
		return out, err
	}
	u := m.userIndex(user)
	if u < 0 {
		return out, fmt.Errorf("tapeml: ExplainRecommendation: user %q has no training ratings", user)
	}
	i, ok := r.IDs.Items.Index(item)
	if !ok || r.Train.ItemCount(i) == 0 {
		return out, fmt.Errorf("tapeml: ExplainRecommendation: item %q has no training ratings", item)
	}
	out.Prediction = r.Recommender.Predict(u, i)
	var cs []recsys.Contribution
	switch rec := r.Recommender.(type) {
	case *recsys.KNN:
		out.Method = "knn " + rec.Config.Based + "-based neighbours"
		var found bool
		if out.Centre, cs, found = rec.Explain(u, i); !found {
			out.Note = "no neighbour rated it: the prediction is the bias model's"
		}
	case *mf.Recommender:
		out.Method = "mf item-factor similarity"
		t, c, _ := rec.Explain(u, i)
		out.Terms, cs = &t, c
		out.Note = fmt.Sprintf("prediction = μ %.3f + b_u %.3f + b_i %.3f + p_u·q_i %.3f (clamped); contributions = (the user's rating − their mean) × cos(q_rated, q_item), a reading of the factors, not a decomposition of p_u·q_i",
			t.Global, t.UserBias, t.ItemBias, t.Dot)
	default:
		return out, fmt.Errorf("tapeml: ExplainRecommendation: no explanation for the %s algorithm (kNN and MF have one)", m.Algo())
	}
	for _, c := range cs {
		x := Contribution{Kind: c.Kind, Similarity: c.Similarity, Rating: c.Rating, Contribution: c.Contribution}
		if c.Kind == recsys.UserBased {
			x.ID = r.IDs.Users.Raw(c.Index)
		} else {
			x.ID = r.IDs.Items.Raw(c.Index)
			x.Title = r.Items[x.ID].Title
		}
		out.Contributions = append(out.Contributions, x)
	}
	return out, nil
}
