package mf

import (
	"math"

	"github.com/tapeml/tapeml/recsys"
)

// Terms is the exact decomposition of an MF prediction before clamping:
// μ + b_u + b_i + p_u·q_i.
type Terms struct {
	Global, UserBias, ItemBias, Dot float64
}

// Explain decomposes the prediction of (user, item) into its terms and
// relates it to the items the user rated: each rated item j gets
//
//	Contribution = (r_uj − r̄_u) · cos(q_j, q_i),
//
// the user's centred rating of j times the cosine similarity of the two
// items' factor vectors, largest |Contribution| first. This is an
// item-factor-similarity reading, not a decomposition of p_u·q_i: p_u is a
// free parameter fitted to the user's ratings, so it only says which rated
// items the factors tie most strongly to the item, and whether the user
// liked them. ok is false for an unknown user or item (the prediction is
// then the bias model's).
func (r *Recommender) Explain(user, item int) (t Terms, cs []recsys.Contribution, ok bool) {
	t.Global = r.mu
	ku, ki := r.Baseline.KnownUser(user), r.Baseline.KnownItem(item)
	if ku {
		t.UserBias = r.userBias[user]
	}
	if ki {
		t.ItemBias = r.itemBias[item]
	}
	if !ku || !ki {
		return t, nil, false
	}
	f := r.Config.Factors
	qi := r.q[item*f : (item+1)*f]
	for k, x := range r.p[user*f : (user+1)*f] {
		t.Dot += x * qi[k]
	}
	items, ratings := r.Train.UserRow(user)
	mean := 0.0
	for _, v := range ratings {
		mean += float64(v)
	}
	mean /= float64(len(ratings))
	for n, j := range items {
		qj := r.q[int(j)*f : (int(j)+1)*f]
		var dot, nj, ni float64
		for k := range qj {
			dot += qj[k] * qi[k]
			nj += qj[k] * qj[k]
			ni += qi[k] * qi[k]
		}
		cos := 0.0
		if nj > 0 && ni > 0 {
			cos = dot / math.Sqrt(nj*ni)
		}
		cs = append(cs, recsys.Contribution{Index: int(j), Kind: "item", Similarity: cos, Rating: float64(ratings[n]),
			Contribution: (float64(ratings[n]) - mean) * cos})
	}
	recsys.SortContributions(cs)
	return t, cs, true
}
