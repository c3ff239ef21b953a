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

// Recommendation is one object of `tapeml recommend --json` or
// `tapeml similar --json`.
type Recommendation struct {
	ID        string   `json:"id"`
	Score     float64  `json:"score"`
	Predicted *float64 `json:"predicted,omitempty"`
	Title     string   `json:"title,omitempty"`
}

// Recommend returns `tapeml recommend`'s items for user: m's
// recommendations (see tapeml.Model.Recommend), each with its predicted
// rating.
func Recommend(ctx context.Context, m *tapeml.Model, user string, n int) ([]Recommendation, error) {
	recs, err := m.Recommend(ctx, user, n)
	if err != nil || len(recs) == 0 {
		return nil, err
	}
	pairs := make([]tapeml.UserItem, len(recs))
	for i, rec := range recs {
		pairs[i] = tapeml.UserItem{User: user, Item: rec.Item}
	}
	ratings, err := m.PredictRatings(ctx, pairs)
	if err != nil {
		return nil, err
	}
	out := make([]Recommendation, len(recs))
	for i, rec := range recs {
		p := float64(ratings[i])
		out[i] = Recommendation{ID: rec.Item, Score: float64(rec.Score), Predicted: &p, Title: rec.Title}
	}
	return out, nil
}
