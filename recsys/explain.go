package recsys

import (
	"math"
	"sort"
)

// Contribution is one neighbour's or rated item's part in explaining a
// predicted rating.
type Contribution struct {
	// Index is a user (a user-based kNN neighbour) or an item (an item the
	// user rated) as Kind says.
	Index int
	Kind  string // "user" or "item"
	// Similarity is the neighbour's similarity; Rating the rating it gave
	// (user-based: the neighbour's rating of the item; item-based and MF:
	// the user's rating of the neighbour item).
	Similarity, Rating float64
	// Contribution is the neighbour's term of the prediction (kNN: the
	// terms and the centre add up to the unclipped prediction; see the
	// explaining method for other models).
	Contribution float64
}

// Explain returns the neighbours a kNN prediction of (user, item) averages
// over, largest |Contribution| first, and the centre the prediction
// starts from (the user's or item's mean rating): unclipped prediction =
// centre + Σ Contribution, with Contribution = s·(r − mean_neighbour)/Σs.
// ok is false when the prediction falls back to the bias model (unknown
// user or item, or no neighbour rated it).
func (k *KNN) Explain(user, item int) (centre float64, cs []Contribution, ok bool) {
	b := k.Baseline
	if !b.KnownUser(user) || !b.KnownItem(item) {
		return 0, nil, false
	}
	e, target, kind := user, item, UserBased
	rated := func(nb int32) (float32, bool) { return k.Train.Rating(int(nb), target) }
	if k.Config.Based == ItemBased {
		e, target, kind = item, user, ItemBased
		rated = func(nb int32) (float32, bool) { return k.Train.Rating(target, int(nb)) }
	}
	idx, sims := k.neighbours(e)
	var den float64
	for j, nb := range idx {
		r, found := rated(nb)
		if !found {
			continue
		}
		s := float64(sims[j])
		den += s
		cs = append(cs, Contribution{Index: int(nb), Kind: kind, Similarity: s, Rating: float64(r), Contribution: s * (float64(r) - k.means[nb])})
		if len(cs) == k.Config.K {
			break
		}
	}
	if len(cs) == 0 {
		return 0, nil, false
	}
	for i := range cs {
		cs[i].Contribution /= den
	}
	sortContributions(cs)
	return k.means[e], cs, true
}

func sortContributions(cs []Contribution) {
	sort.SliceStable(cs, func(a, b int) bool { return math.Abs(cs[a].Contribution) > math.Abs(cs[b].Contribution) })
}

// SortContributions orders contributions by decreasing |Contribution|,
// stably.
func SortContributions(cs []Contribution) { sortContributions(cs) }
