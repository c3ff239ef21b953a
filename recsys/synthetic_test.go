package recsys_test

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/tapeml/tapeml/recsys"
	"github.com/tapeml/tapeml/tools/synth"
)

// The tests on synthetic ratings are external (package recsys_test)
// because tools/synth, which makes the ratings, imports recsys.

func TestRandomSplit(t *testing.T) {
	d, err := synth.Synthesize(synth.Small())
	if err != nil {
		t.Fatal(err)
	}
	tr, te, err := recsys.RandomSplit(d.Ratings, 0, 7)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(d.Ratings); len(te) != (n+2)/5 && len(te) != n/5 || len(tr)+len(te) != n {
		t.Errorf("%d train + %d test of %d: want 20%% held out", len(tr), len(te), n)
	}
	tr2, te2, _ := recsys.RandomSplit(d.Ratings, 0.2, 7)
	if !reflect.DeepEqual(tr, tr2) || !reflect.DeepEqual(te, te2) {
		t.Error("the same seed gave another split")
	}
	_, te3, _ := recsys.RandomSplit(d.Ratings, 0.2, 8)
	if reflect.DeepEqual(te, te3) {
		t.Error("another seed gave the same split")
	}
	// Both parts keep the input order and together are the input.
	seen := map[[2]int32]bool{}
	for _, part := range [][]recsys.Rating{tr, te} {
		for _, r := range part {
			seen[[2]int32{r.User, r.Item}] = true
		}
	}
	if len(seen) != len(d.Ratings) {
		t.Errorf("%d distinct pairs across the parts, want %d", len(seen), len(d.Ratings))
	}
	for _, c := range []struct {
		frac float64
		n    int
		want string
	}{{1.5, 10, "test fraction 1.5"}, {-0.1, 10, "test fraction -0.1"}, {0.2, 1, "1 ratings cannot be split"}} {
		if _, _, err := recsys.RandomSplit(d.Ratings[:c.n], c.frac, 1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("fraction %v of %d: error %v, want %q", c.frac, c.n, err, c.want)
		}
	}
}

// TestEvaluateSamplesUsers checks RankUsers: the sample has that many
// users, is a function of the seed, leaves RMSE on every rating, and a
// bound above the eligible users changes nothing.
func TestEvaluateSamplesUsers(t *testing.T) {
	d, err := synth.Synthesize(synth.Small())
	if err != nil {
		t.Fatal(err)
	}
	tr, te, _ := recsys.RandomSplit(d.Ratings, 0, 1)
	m, _ := recsys.NewMatrix(tr, d.NumUsers(), d.NumItems())
	pop := recsys.FitPopularity(m, d.Scale)
	all, _ := recsys.Evaluate(pop, m, te, recsys.EvalConfig{})
	if all.Users != all.Eligible || all.Users < 20 {
		t.Fatalf("all users: %d ranked of %d eligible", all.Users, all.Eligible)
	}
	some, err := recsys.Evaluate(pop, m, te, recsys.EvalConfig{RankUsers: 10, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	again, _ := recsys.Evaluate(pop, m, te, recsys.EvalConfig{RankUsers: 10, Seed: 3})
	other, _ := recsys.Evaluate(pop, m, te, recsys.EvalConfig{RankUsers: 10, Seed: 4})
	if some.Users != 10 || some.Eligible != all.Eligible || some.RMSE != all.RMSE || some.N != all.N {
		t.Errorf("sample: %+v; all: %+v", some, all)
	}
	if some != again || some == other {
		t.Errorf("seed 3 twice: %+v, %+v; seed 4: %+v", some, again, other)
	}
	if !strings.Contains(some.String(), "a sample of 10 of") {
		t.Errorf("String() = %q: want the sample named", some)
	}
	if wide, _ := recsys.Evaluate(pop, m, te, recsys.EvalConfig{RankUsers: all.Eligible}); wide != all {
		t.Errorf("RankUsers = eligible: %+v, want %+v", wide, all)
	}
	if _, err := recsys.Evaluate(pop, m, te, recsys.EvalConfig{RankUsers: -1}); err == nil {
		t.Error("negative RankUsers: want an error")
	}
}

// near is knn_test.go's tolerance, for the external tests.
func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }
