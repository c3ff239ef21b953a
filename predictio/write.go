package predictio

import (
	"context"
	"slices"
	"sort"

	"github.com/tapeml/tapeml"
)

// TextObjects returns `tapeml predict --json`'s object for each text:
// line joins it to its input; prob is a binary model's positive class's
// probability (as before the runtime existed), another model's predicted
// class's; probs every class's; tokens are the padded ids the model saw;
// no_evidence is true for a text without a known token, whose probs are the
// training set's class prior. preds are m's predictions for texts.
func TextObjects(m *tapeml.Model, lines []int, texts []string, preds []tapeml.Prediction) ([]map[string]any, error) {
	ids, err := m.EncodeTexts(texts) // [len(texts)·MaxLen]
	if err != nil {
		return nil, err
	}
	pos := slices.Index(m.Classes(), m.PositiveClass()) // -1: not binary
	width := len(ids) / len(texts)
	out := make([]map[string]any, len(preds))
	for i, p := range preds {
		tokens := make([]int, width)
		for j := range tokens {
			tokens[j] = int(ids[i*width+j])
		}
		prob := p.Prob
		if pos >= 0 {
			prob = p.Probs[pos]
		}
		out[i] = map[string]any{"line": lines[i], "prob": prob, "probs": p.Probs, "label": p.Label, "class": p.Class, "tokens": tokens, "no_evidence": p.NoEvidence}
	}
	return out, nil
}

// TopClasses returns the indices of p's top classes, most probable first
// (ties in class order), at most top of them.
func TopClasses(p tapeml.Prediction, top int) []int {
	order := make([]int, len(p.Probs))
	for j := range order {
		order[j] = j
	}
	sort.SliceStable(order, func(a, b int) bool { return p.Probs[order[a]] > p.Probs[order[b]] })
	return order[:min(top, len(order))]
}

// TopList is the "top" list of `tapeml predict --json`'s objects: p's
// top classes, most probable first, each with its label, class and prob.
func TopList(p tapeml.Prediction, classes []string, top int) []map[string]any {
	var list []map[string]any
	for _, j := range TopClasses(p, top) {
		list = append(list, map[string]any{"label": j, "class": classes[j], "prob": p.Probs[j]})
	}
	return list
}

// ImageObject returns `tapeml predict --json`'s object for the image in
// file: its prediction and its top classes.
func ImageObject(file string, p tapeml.Prediction, classes []string, top int) map[string]any {
	return map[string]any{"file": file, "probs": p.Probs, "label": p.Label, "class": p.Class, "top": TopList(p, classes, top)}
}

// Recommendation is one object of `tapeml recommend --json`: an item, its
// rank, and what ranked it.
type Recommendation struct {
	Rank  int    `json:"rank"`
	Item  string `json:"item"`
	Title string `json:"title,omitempty"`
	// RankedBy names what orders the list: the model's ranking score
	// ("expected relevance", "predicted rating", "preference"), or
	// "popularity" when the model does not know the user.
	RankedBy string `json:"ranked_by"`
	// RankingScore is the model's score, which RankedBy names; absent
	// when popularity answers (Fallback).
	RankingScore *float64 `json:"ranking_score,omitempty"`
	// PredictedRating is the rating the model predicts (models of
	// ratings; a model of interactions predicts none).
	PredictedRating *float64 `json:"predicted_rating,omitempty"`
	// Popularity is the item's number of training ratings or
	// interactions.
	Popularity int `json:"popularity"`
	// Fallback is "popularity" when the model does not know the user (no
	// training ratings or interactions) and the most popular items answer.
	Fallback string `json:"fallback,omitempty"`
	// Seen marks an item the user has in training (listed with
	// --exclude-seen=false).
	Seen bool `json:"seen,omitempty"`
}

// Recommend returns m's answer to req (see tapeml.Model.Recommendations)
// and its items as `tapeml recommend --json`'s objects.
func Recommend(ctx context.Context, m *tapeml.Model, req tapeml.RecommendRequest) (tapeml.Recommendations, []Recommendation, error) {
	recs, err := m.Recommendations(ctx, req)
	if err != nil {
		return recs, nil, err
	}
	out := make([]Recommendation, len(recs.Items))
	for i, r := range recs.Items {
		o := Recommendation{Rank: i + 1, Item: r.Item, Title: r.Title, RankedBy: recs.RankedBy, Popularity: r.Popularity, Seen: r.Seen}
		if recs.Fallback {
			o.Fallback = "popularity"
		} else {
			s := float64(r.Score)
			o.RankingScore = &s
		}
		if recs.Ratings {
			p := float64(r.Rating)
			o.PredictedRating = &p
		}
		out[i] = o
	}
	return recs, out, nil
}
