package recsys

import (
	"reflect"
	"strings"
	"testing"
)

func TestRandomSplit(t *testing.T) {
	d, err := Synthesize(smallSynth())
	if err != nil {
		t.Fatal(err)
	}
	tr, te, err := RandomSplit(d.Ratings, 0, 7)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(d.Ratings); len(te) != (n+2)/5 && len(te) != n/5 || len(tr)+len(te) != n {
		t.Errorf("%d train + %d test of %d: want 20%% held out", len(tr), len(te), n)
	}
	tr2, te2, _ := RandomSplit(d.Ratings, 0.2, 7)
	if !reflect.DeepEqual(tr, tr2) || !reflect.DeepEqual(te, te2) {
		t.Error("the same seed gave another split")
	}
	_, te3, _ := RandomSplit(d.Ratings, 0.2, 8)
	if reflect.DeepEqual(te, te3) {
		t.Error("another seed gave the same split")
	}
	// Both parts keep the input order and together are the input.
	seen := map[[2]int32]bool{}
	for _, part := range [][]Rating{tr, te} {
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
		if _, _, err := RandomSplit(d.Ratings[:c.n], c.frac, 1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("fraction %v of %d: error %v, want %q", c.frac, c.n, err, c.want)
		}
	}
}

func TestLeaveLastOut(t *testing.T) {
	rs := []Rating{
		{User: 0, Item: 0, Value: 3, Time: 30},
		{User: 0, Item: 1, Value: 4, Time: 10},
		{User: 1, Item: 0, Value: 5, Time: 5},
		{User: 0, Item: 2, Value: 2, Time: 20},
		{User: 0, Item: 3, Value: 1, Time: 30}, // ties with item 0: later in the input, so later
		{User: 2, Item: 1, Value: 2, Time: 1},
		{User: 2, Item: 2, Value: 2, Time: 2},
	}
	cases := []struct {
		k         int
		wantTrain []Rating
		wantTest  []Rating
	}{
		{1, []Rating{rs[0], rs[1], rs[2], rs[3], rs[5]}, []Rating{rs[4], rs[6]}},
		{2, []Rating{rs[1], rs[2], rs[3], rs[5], rs[6]}, []Rating{rs[0], rs[4]}},
	}
	for _, c := range cases {
		tr, te, err := LeaveLastOut(rs, c.k)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(tr, c.wantTrain) || !reflect.DeepEqual(te, c.wantTest) {
			t.Errorf("k=%d: train %v test %v, want %v and %v", c.k, tr, te, c.wantTrain, c.wantTest)
		}
	}
	if _, _, err := LeaveLastOut(rs, 0); err == nil {
		t.Error("k=0: expected an error")
	}
	if _, _, err := LeaveLastOut(rs, 4); err == nil || !strings.Contains(err.Error(), "no user has more than 4") {
		t.Errorf("k=4: %v", err)
	}
}
