package recsys

import (
	"math"
	"strings"
	"testing"
)

func TestRankByHand(t *testing.T) {
	l2 := math.Log2
	cases := []struct {
		name        string
		recommended []int
		relevant    []int
		k           int
		want        RankScores
	}{
		{"hits at 2 and 4", []int{5, 1, 7, 3}, []int{1, 3, 9}, 4, RankScores{
			Precision: 0.5, Recall: 2.0 / 3,
			NDCG: (1/l2(3) + 1/l2(5)) / (1 + 1/l2(3) + 1/l2(4)),
			AP:   (1.0/2 + 2.0/4) / 3, Hit: 1}},
		{"cut at 2", []int{5, 1, 7, 3}, []int{1, 3, 9}, 2, RankScores{
			Precision: 0.5, Recall: 1.0 / 3, NDCG: (1 / l2(3)) / (1 + 1/l2(3)), AP: 0.5 / 2, Hit: 1}},
		{"short list", []int{1}, []int{1}, 3, RankScores{Precision: 1.0 / 3, Recall: 1, NDCG: 1, AP: 1, Hit: 1}},
		{"no hit", []int{2, 4}, []int{1}, 2, RankScores{}},
		{"nothing relevant", []int{2, 4}, nil, 2, RankScores{}},
	}
	for _, c := range cases {
		rel := map[int]bool{}
		for _, i := range c.relevant {
			rel[i] = true
		}
		got := Rank(c.recommended, rel, c.k)
		if !near(got.Precision, c.want.Precision) || !near(got.Recall, c.want.Recall) || !near(got.NDCG, c.want.NDCG) ||
			!near(got.AP, c.want.AP) || got.Hit != c.want.Hit {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

// fixed is a Recommender with canned answers.
type fixed struct {
	pred  float64
	lists map[int][]Scored
}

func (f fixed) Predict(user, item int) float64 { return f.pred }
func (f fixed) Describe() (string, string)     { return "fixed", "test lists" }
func (f fixed) Recommend(user, n int, _ Seen) []Scored {
	return f.lists[user][:min(n, len(f.lists[user]))]
}
func (f fixed) SimilarUsers(user, n int) []Scored { return nil }
func (f fixed) SimilarItems(item, n int) []Scored { return nil }

func TestEvaluateByHand(t *testing.T) {
	m := tiny(t) // 4 items, all rated in training
	test := []Rating{
		{User: 0, Item: 3, Value: 5}, // relevant for u0
		{User: 2, Item: 2, Value: 3}, // u2 has nothing relevant: not ranked
		{User: 3, Item: 2, Value: 4}, // relevant for u3
	}
	rec := fixed{pred: 4, lists: map[int][]Scored{0: {{3, 1}}, 3: {{0, 1}, {2, 0.5}}}}
	r, err := Evaluate(rec, m, test, EvalConfig{K: 2})
	if err != nil {
		t.Fatal(err)
	}
	// Errors 1, 1, 0.
	if !near(r.RMSE, math.Sqrt(2.0/3)) || !near(r.MAE, 2.0/3) || r.N != 3 {
		t.Errorf("rmse %v mae %v n %d", r.RMSE, r.MAE, r.N)
	}
	// u0: hit at 1 → P ½, R 1, NDCG 1, AP 1. u3: hit at 2 → P ½, R 1, NDCG 1/log2(3), AP ½.
	if r.Users != 2 || !near(r.Precision, 0.5) || !near(r.Recall, 1) || !near(r.NDCG, (1+1/math.Log2(3))/2) ||
		!near(r.MAP, 0.75) || !near(r.HitRate, 1) || !near(r.Coverage, 3.0/4) {
		t.Errorf("report %+v", r)
	}
	if named := r.Named(); named[3].Name != "precision@2" || named[5].Name != "ndcg@2" {
		t.Errorf("names %v", named)
	}
	if _, err := Evaluate(rec, m, nil, EvalConfig{}); err == nil {
		t.Error("empty test set: expected an error")
	}
}

// TestEvaluateImplicit: every held-out interaction is relevant, whatever
// its weight, and the report has no rating error.
func TestEvaluateImplicit(t *testing.T) {
	m := tiny(t)
	test := []Rating{
		{User: 0, Item: 3, Value: 1},
		{User: 2, Item: 2, Value: 0.5}, // a weight below any rating threshold still counts
		{User: 3, Item: 2, Value: 7},
	}
	rec := fixed{pred: math.NaN(), lists: map[int][]Scored{0: {{3, 1}}, 2: {{1, 1}, {2, 0.5}}, 3: {{2, 1}}}}
	r, err := Evaluate(rec, m, test, EvalConfig{K: 2, Implicit: true})
	if err != nil {
		t.Fatal(err)
	}
	// u0 and u3: hit at 1; u2: hit at 2.
	if r.Users != 3 || !near(r.Recall, 1) || !near(r.NDCG, (2+1/math.Log2(3))/3) || !r.Implicit || r.RMSE != 0 {
		t.Errorf("report %+v", r)
	}
	for _, n := range r.Named() {
		if n.Name == "rmse" || n.Name == "mae" {
			t.Errorf("an implicit report names %s", n.Name)
		}
	}
	if s := r.String(); strings.Contains(s, "rmse") || !strings.Contains(s, "ndcg@2") {
		t.Errorf("report reads %q", s)
	}
}
