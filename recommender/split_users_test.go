package recommender

import (
	"testing"

	"github.com/tapeml/tapeml/recsys"
)

// splitUsers holds out part of the chosen users' interactions only, keeps
// every interaction in exactly one part, and repeats for a seed.
func TestSplitUsers(t *testing.T) {
	var rs []recsys.Rating
	for u := int32(0); u < 50; u++ {
		for i := int32(0); i < 10+u%7; i++ {
			rs = append(rs, recsys.Rating{User: u, Item: i, Value: 1})
		}
	}
	rs = append(rs, recsys.Rating{User: 50, Item: 3, Value: 1}) // one interaction: never chosen
	train, held, err := splitUsers(rs, 51, 5, 0.2, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(train)+len(held) != len(rs) || len(held) == 0 {
		t.Fatalf("%d + %d interactions from %d", len(train), len(held), len(rs))
	}
	users := map[int32]bool{}
	for _, r := range held {
		users[r.User] = true
		if r.User == 50 {
			t.Fatal("a user with one interaction was held out")
		}
	}
	if len(users) > 5 {
		t.Fatalf("held out interactions of %d users, want at most 5", len(users))
	}
	seen := map[[2]int32]int{}
	for _, r := range append(append([]recsys.Rating(nil), train...), held...) {
		seen[[2]int32{r.User, r.Item}]++
	}
	if len(seen) != len(rs) {
		t.Fatalf("%d distinct interactions after the split, want %d", len(seen), len(rs))
	}
	_, again, _ := splitUsers(rs, 51, 5, 0.2, 7)
	if len(again) != len(held) || again[0] != held[0] {
		t.Fatal("the split changed for the same seed")
	}
	if _, _, err := splitUsers([]recsys.Rating{{User: 0, Item: 0}}, 1, 5, 0.2, 7); err == nil {
		t.Fatal("no user with two interactions: no error")
	}
}
