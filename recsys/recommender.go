package recsys

import (
	"container/heap"
	"math"
	"slices"
)

// Scored is an index (an item, or a user for SimilarUsers) with its score:
// a predicted rating, a similarity, or a popularity count.
type Scored struct {
	Index int     `json:"index"`
	Score float64 `json:"score"`
}

// Recommender is what every algorithm offers, over the dense indices of the
// training data's id maps. An index out of range (or −1) is an unknown user
// or item, and so is one without training ratings: Predict then falls back
// to the biases (μ + b_i for an unknown user, μ + b_u for an unknown item,
// μ for both), Recommend to the most popular items. Nothing panics, and
// every implementation here is safe for concurrent use.
type Recommender interface {
	// Predict returns the predicted rating, clipped to the rating scale.
	Predict(user, item int) float64
	// Recommend returns up to n items with training ratings, best first:
	// those the user has not rated in training (ExcludeSeen), or all
	// (IncludeSeen). Score is the ranking score: the expected relevance or
	// the predicted rating (see Ranking), an implicit model's preference,
	// or the rating count when popularity answers (an unknown user);
	// Predict gives the predicted rating.
	Recommend(user, n int, seen Seen) []Scored
	// SimilarUsers returns up to n other users, most similar first; nil for
	// an unknown user or an algorithm without a notion of user similarity.
	SimilarUsers(user, n int) []Scored
	// SimilarItems returns up to n other items, most similar first.
	SimilarItems(item, n int) []Scored
	// Describe names Recommend's score for a known user and says what it
	// is, for people reading a list.
	Describe() (name, meaning string)
}

// Seen says whether Recommend lists the items a user has in training.
type Seen bool

// The two Seen policies.
const (
	ExcludeSeen Seen = false // recommend only what the user has not rated (the default)
	IncludeSeen Seen = true  // rank the user's training items too
)

// Baseline is the bias model r̂ = μ + b_u + b_i with damped means (Koren,
// "Factor in the Neighbors", 2010): b_i = Σ(r − μ)/(ItemDamping + n_i), then
// b_u = Σ(r − μ − b_i)/(UserDamping + n_u). It is every algorithm's
// fallback, the centre SVD factorises around, and the popularity
// baseline's rating predictor.
type Baseline struct {
	Mean      float64
	UserBias  []float64 // 0 for users without ratings
	ItemBias  []float64
	UserCount []int // training ratings per user
	ItemCount []int // training ratings per item
	Scale     Scale
}

// Damping of the baseline's means, in ratings: an item with 25 ratings gets
// half the bias its mean suggests.
const (
	ItemDamping = 25
	UserDamping = 10
)

// FitBaseline computes the biases of m.
func FitBaseline(m *Matrix, scale Scale) *Baseline {
	b := &Baseline{Mean: m.Mean, UserBias: make([]float64, m.NumUsers), ItemBias: make([]float64, m.NumItems),
		UserCount: make([]int, m.NumUsers), ItemCount: make([]int, m.NumItems), Scale: scale.orDefault()}
	for i := 0; i < m.NumItems; i++ {
		_, vals := m.ItemColumn(i)
		var s float64
		for _, v := range vals {
			s += float64(v) - b.Mean
		}
		b.ItemBias[i] = s / (ItemDamping + float64(len(vals)))
		b.ItemCount[i] = len(vals)
	}
	for u := 0; u < m.NumUsers; u++ {
		items, vals := m.UserRow(u)
		var s float64
		for k, v := range vals {
			s += float64(v) - b.Mean - b.ItemBias[items[k]]
		}
		b.UserBias[u] = s / (UserDamping + float64(len(vals)))
		b.UserCount[u] = len(vals)
	}
	return b
}

// KnownUser reports whether u has training ratings.
func (b *Baseline) KnownUser(u int) bool { return u >= 0 && u < len(b.UserCount) && b.UserCount[u] > 0 }

// KnownItem reports whether i has training ratings.
func (b *Baseline) KnownItem(i int) bool { return i >= 0 && i < len(b.ItemCount) && b.ItemCount[i] > 0 }

// Raw is μ + b_u + b_i without clipping; unknown users and items add 0.
func (b *Baseline) Raw(u, i int) float64 {
	p := b.Mean
	if b.KnownUser(u) {
		p += b.UserBias[u]
	}
	if b.KnownItem(i) {
		p += b.ItemBias[i]
	}
	return p
}

// Predict is the clipped baseline.
func (b *Baseline) Predict(u, i int) float64 { return b.Scale.Clip(b.Raw(u, i)) }

// Popular returns up to n known items, not rated by u unless seen is
// IncludeSeen (any items when u is unknown), most rated first, ties by
// higher mean then lower index.
func (b *Baseline) Popular(m *Matrix, u, n int, seen Seen) []Scored {
	var rated []int32
	if seen == ExcludeSeen {
		rated, _ = m.UserRow(u)
	}
	t := newTopN(n)
	for i, c := range b.ItemCount {
		if c == 0 {
			continue
		}
		if _, r := slices.BinarySearch(rated, int32(i)); r {
			continue
		}
		// Count first; the bias (|b_i| < 5) only breaks ties.
		t.push(i, float64(c)+b.ItemBias[i]/16)
	}
	out := t.sorted()
	for k := range out {
		out[k].Score = float64(b.ItemCount[out[k].Index])
	}
	return out
}

// TopN keeps the n highest scores pushed, ties to the lower index, in
// O(log n) a push: a recommender ranks its catalogue through it rather than
// sorting (and keeping) a catalogue-sized slice per user.
type TopN struct{ t *topN }

// NewTopN keeps up to n scores.
func NewTopN(n int) *TopN { return &TopN{newTopN(n)} }

// Push offers index with score; NaN scores are ignored.
func (t *TopN) Push(index int, score float64) { t.t.push(index, score) }

// Sorted returns the kept scores, best first, in a slice of their own.
func (t *TopN) Sorted() []Scored { return t.t.sorted() }

// topN keeps the n highest scores seen; ties go to the lower index, so
// results do not depend on the order of pushes.
type topN struct {
	n int
	h scoredHeap
}

func newTopN(n int) *topN { return &topN{n: max(n, 0)} }

// better orders by score, then by lower index.
func better(a, b Scored) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	return a.Index < b.Index
}

func (t *topN) push(index int, score float64) {
	if t.n == 0 || math.IsNaN(score) {
		return
	}
	s := Scored{index, score}
	if len(t.h) < t.n {
		heap.Push(&t.h, s)
		return
	}
	if better(s, t.h[0]) {
		t.h[0] = s
		heap.Fix(&t.h, 0)
	}
}

// sorted returns the kept scores, best first.
func (t *topN) sorted() []Scored {
	out := slices.Clone([]Scored(t.h))
	slices.SortFunc(out, func(a, b Scored) int {
		if better(a, b) {
			return -1
		}
		if better(b, a) {
			return 1
		}
		return 0
	})
	return out
}

// scoredHeap is a min-heap by better: the root is the worst kept.
type scoredHeap []Scored

func (h scoredHeap) Len() int           { return len(h) }
func (h scoredHeap) Less(i, j int) bool { return better(h[j], h[i]) }
func (h scoredHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *scoredHeap) Push(x any)        { *h = append(*h, x.(Scored)) }
func (h *scoredHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// CosineNeighbours ranks the rows of a dense row-major matrix (rows × dim)
// by cosine similarity to row r, for SimilarUsers and SimilarItems of
// factor models. Rows for which keep is false are left out.
func CosineNeighbours(vecs []float64, dim, r, n int, keep func(int) bool) []Scored {
	rows := len(vecs) / dim
	if r < 0 || r >= rows || n <= 0 {
		return nil
	}
	norm := func(k int) float64 {
		var s float64
		for _, v := range vecs[k*dim : (k+1)*dim] {
			s += v * v
		}
		return math.Sqrt(s)
	}
	target := vecs[r*dim : (r+1)*dim]
	nr := norm(r)
	if nr == 0 {
		return nil
	}
	t := newTopN(n)
	for k := 0; k < rows; k++ {
		if k == r || !keep(k) {
			continue
		}
		nk := norm(k)
		if nk == 0 {
			continue
		}
		var dot float64
		for j, v := range vecs[k*dim : (k+1)*dim] {
			dot += v * target[j]
		}
		t.push(k, dot/(nr*nk))
	}
	return t.sorted()
}
