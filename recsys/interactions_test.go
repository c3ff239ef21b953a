package recsys

import (
	"reflect"
	"strings"
	"testing"
)

// TestParseInteractionLog: a CSV without a rating column is an
// interaction log: a count column (or 1 each), repeated pairs added up
// with the latest time.
func TestParseInteractionLog(t *testing.T) {
	text := "user_id,item_id,count,timestamp\nu1,a,2,10\nu1,b,1,11\nu2,a,3,5\nu1,a,4,30\n"
	d, rep, err := ParseRatings(strings.NewReader(text), "log.csv", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Rating{{0, 0, 6, 30}, {0, 1, 1, 11}, {1, 0, 3, 5}}
	if !d.Implicit || !rep.Implicit || rep.Duplicates != 1 || !reflect.DeepEqual(d.Ratings, want) {
		t.Errorf("read %+v, report %+v; want %v, implicit, one repeat", d.Ratings, rep, want)
	}
	if s := rep.String(); !strings.Contains(s, "interactions") || !strings.Contains(s, "added up") {
		t.Errorf("report reads %q", s)
	}
	d, _, err = ParseRatings(strings.NewReader("userId,movieId\n1,2\n1,3\n"), "views.csv", ReadOptions{})
	if err != nil || !d.Implicit || len(d.Ratings) != 2 || d.Ratings[0].Value != 1 {
		t.Errorf("a log without counts: %+v, %v", d, err)
	}
	for _, bad := range []struct{ text, want string }{
		{"user,item,count\n1,2,0\n", "log.csv:2: weight \"0\""},
		{"user,item,count\n1,2,-1\n", "log.csv:2: weight"},
		{"user,item,count\n1,2,NaN\n", "log.csv:2: weight"},
		{"user,item,count\n1,2,1e12\n", "log.csv:2: weight"},
		{"user,count\n1,2\n", "log.csv:1: header"},
	} {
		if _, _, err := ParseRatings(strings.NewReader(bad.text), "log.csv", ReadOptions{}); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: %v, want an error with %q", bad.text, err, bad.want)
		}
	}
}

// TestInteractionsThreshold: ratings of at least the threshold become
// interactions of weight 1, with the maps shared.
func TestInteractionsThreshold(t *testing.T) {
	d, _, err := ParseRatings(strings.NewReader("userId,movieId,rating,timestamp\n1,a,4,1\n1,b,3.5,2\n2,a,5,3\n"), "r.csv", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	i, err := Interactions(d, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := []Rating{{0, 0, 1, 1}, {1, 0, 1, 3}}
	if !i.Implicit || !reflect.DeepEqual(i.Ratings, want) || i.Users != d.Users || d.Implicit {
		t.Errorf("interactions %+v (implicit %v)", i.Ratings, i.Implicit)
	}
	if _, err := Interactions(d, 5.5); err == nil || !strings.Contains(err.Error(), "no rating reaches") {
		t.Errorf("threshold above every rating: %v", err)
	}
	if _, err := Interactions(i, 1); err == nil {
		t.Error("interactions thresholded again")
	}
}

// TestTimeSplit: the latest share by time is the test split, ties in
// input order; data without timestamps are an error.
func TestTimeSplit(t *testing.T) {
	rs := []Rating{{0, 0, 1, 50}, {0, 1, 1, 10}, {1, 0, 1, 30}, {1, 1, 1, 50}, {2, 2, 1, 20}}
	tr, te, err := TimeSplit(rs, 0.4)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(te, []Rating{rs[0], rs[3]}) || !reflect.DeepEqual(tr, []Rating{rs[1], rs[2], rs[4]}) {
		t.Errorf("train %v test %v", tr, te)
	}
	if _, _, err := TimeSplit([]Rating{{0, 0, 1, 0}, {0, 1, 1, 0}}, 0.5); err == nil || !strings.Contains(err.Error(), "timestamps") {
		t.Errorf("no timestamps: %v", err)
	}
	if _, _, err := TimeSplit(rs, 1); err == nil {
		t.Error("test fraction 1 split")
	}
}

// TestImplicitRatingsTensors: a checkpoint's interactions are checked as
// weights, not against the rating scale.
func TestImplicitRatingsTensors(t *testing.T) {
	rs := []Rating{{0, 0, 7, 1}, {1, 1, 1, 2}}
	got, err := RatingsFromTensors(RatingsTensors(rs), 2, 2, Scale{}, true, "train_ratings.safetensors")
	if err != nil || !reflect.DeepEqual(got, rs) {
		t.Errorf("%v, %v", got, err)
	}
	if _, err := RatingsFromTensors(RatingsTensors(rs), 2, 2, Scale{}, false, "train_ratings.safetensors"); err == nil {
		t.Error("weight 7 read as a rating")
	}
	rs[0].Value = 0
	if _, err := RatingsFromTensors(RatingsTensors(rs), 2, 2, Scale{}, true, "train_ratings.safetensors"); err == nil || !strings.Contains(err.Error(), "weight 0") {
		t.Errorf("weight 0: %v", err)
	}
}
