package recsys

import (
	"math"
	"testing"
)

// tiny is the hand-computed example: four users, four items.
//
//	      i0 i1 i2 i3
//	u0     5  3  4  .
//	u1     4  2  5  4
//	u2     1  5  .  2
//	u3     4  3  .  5
func tiny(t *testing.T) *Matrix {
	t.Helper()
	rs := []Rating{
		{0, 0, 5, 0}, {0, 1, 3, 0}, {0, 2, 4, 0},
		{1, 0, 4, 0}, {1, 1, 2, 0}, {1, 2, 5, 0}, {1, 3, 4, 0},
		{2, 0, 1, 0}, {2, 1, 5, 0}, {2, 3, 2, 0},
		{3, 0, 4, 0}, {3, 1, 3, 0}, {3, 3, 5, 0},
	}
	m, err := NewMatrix(rs, 4, 4)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func TestKNNUserPearsonByHand(t *testing.T) {
	m := tiny(t)
	k, err := FitKNN(m, Scale{Min: 1, Max: 5}, KNNConfig{Shrinkage: -1, K: 2, Keep: 3})
	if err != nil {
		t.Fatal(err)
	}
	// Pearson over co-rated items with their own means:
	// u0·u1 on i0..i2: deviations (1, −1, 0) and (1/3, −5/3, 4/3):
	// 2 / (√2 · √(42/9)) = 6/√84. u0·u3 on i0, i1: (1, −1)·(½, −½) = 1.
	// u0·u2 is −1: not a neighbour.
	s01, s03 := 6/math.Sqrt(84), 1.0
	nb := k.Neighbours(0)
	if len(nb) != 2 || nb[0].Index != 3 || !near(nb[0].Score, s03) || nb[1].Index != 1 || !near(nb[1].Score, s01) {
		t.Fatalf("neighbours of u0 = %v, want [u3 %v, u1 %v]", nb, s03, s01)
	}
	// u1·u3 on i0, i1, i3: (⅔, −4⁄3, ⅔)·(0, −1, 1) = 2 over √(24/9)·√2.
	if nb := k.Neighbours(1); len(nb) != 2 || nb[0].Index != 3 || !near(nb[0].Score, 2/math.Sqrt(48.0/9)) {
		t.Errorf("neighbours of u1 = %v", nb)
	}
	// r̂(u0, i3) = μ0 + (s03·(5 − μ3) + s01·(4 − μ1)) / (s03 + s01), μ0 = 4, μ1 = 15/4, μ3 = 4.
	want := 4 + (s03*(5-4)+s01*(4-3.75))/(s03+s01)
	if got := k.Predict(0, 3); !near(got, want) {
		t.Errorf("Predict(u0, i3) = %v, want %v", got, want)
	}
	if got := k.SimilarUsers(0, 1); len(got) != 1 || got[0].Index != 3 {
		t.Errorf("SimilarUsers(u0, 1) = %v", got)
	}
	if got := k.Recommend(0, 5, ExcludeSeen); len(got) != 1 || got[0].Index != 3 {
		t.Errorf("Recommend(u0) = %v, want only the unseen i3", got)
	}
}

func TestKNNShrinkageAndCosine(t *testing.T) {
	m := tiny(t)
	k, err := FitKNN(m, Scale{Min: 1, Max: 5}, KNNConfig{Shrinkage: 10})
	if err != nil {
		t.Fatal(err)
	}
	// n/(n+λ) with n = 2 co-rated items.
	if nb := k.Neighbours(0); !near(nb[0].Score, 1*2.0/12) {
		t.Errorf("shrunk u0·u3 = %v, want %v", nb[0].Score, 2.0/12)
	}
	c, err := FitKNN(m, Scale{Min: 1, Max: 5}, KNNConfig{Similarity: Cosine, Shrinkage: -1, MinSupport: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Cosine of user-centred full vectors: u0 → (1, −1, 0, 0),
	// u1 → (¼, −7⁄4, 5⁄4, ¼), u3 → (0, −1, 0, 1).
	nb := c.Neighbours(0)
	if len(nb) != 2 || nb[0].Index != 1 || !near(nb[0].Score, 2/math.Sqrt(2*4.75)) || nb[1].Index != 3 || !near(nb[1].Score, 0.5) {
		t.Errorf("cosine neighbours of u0 = %v, want u1 at %v, u3 at 0.5", nb, 2/math.Sqrt(2*4.75))
	}
}

func TestKNNItemBased(t *testing.T) {
	m := tiny(t)
	k, err := FitKNN(m, Scale{Min: 1, Max: 5}, KNNConfig{Based: ItemBased, Shrinkage: -1})
	if err != nil {
		t.Fatal(err)
	}
	// i2·i3 co-rated by u1 only: below MinSupport 2. i0·i3 on u1, u2, u3:
	// (4, 1, 4) and (4, 2, 5): deviations (1, −2, 1), (⅓, −5⁄3, 4⁄3):
	// (⅓ + 10⁄3 + 4⁄3) / (√6 · √(42/9)) = 5 / √28.
	var s03 float64
	for _, nb := range k.Neighbours(3) {
		if nb.Index == 2 {
			t.Errorf("i2 is a neighbour of i3 on one co-rating")
		}
		if nb.Index == 0 {
			s03 = nb.Score
		}
	}
	if !near(s03, 5/math.Sqrt(28)) {
		t.Errorf("sim(i3, i0) = %v, want %v", s03, 5/math.Sqrt(28))
	}
	// SimilarUsers of an item-based model is computed on the fly.
	if got := k.SimilarUsers(0, 3); len(got) != 2 || got[0].Index != 3 {
		t.Errorf("SimilarUsers(u0) = %v", got)
	}
}

func TestKNNConfigErrors(t *testing.T) {
	for _, c := range []KNNConfig{{Based: "movie"}, {Similarity: "jaccard"}, {K: -1}, {K: 50, Keep: 10}, {MinSupport: -2}, {Ranking: Ranking{By: "price"}}} {
		if _, err := FitKNN(&Matrix{}, Scale{}, c); err == nil {
			t.Errorf("%+v: expected an error", c)
		}
	}
}
