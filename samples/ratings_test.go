package samples

import (
	"fmt"
	"math"
	"testing"

	"github.com/tapeml/tapeml/recsys"
)

func TestRatings(t *testing.T) {
	d, err := Ratings()
	if err != nil {
		t.Fatal(err)
	}
	s := recsys.Summarize(d.Ratings)
	if s.Ratings != 50000 || s.Users != 600 || s.Items != 1000 || d.NumUsers() != 600 || d.NumItems() != 1000 {
		t.Errorf("stats %v, want 50,000 ratings of 600 users on 1,000 items", s)
	}
	if math.Abs(s.Mean-3.265) > 0.001 || math.Abs(s.SD-1.014) > 0.001 {
		t.Errorf("mean %.4f sd %.4f, want 3.265 and 1.014", s.Mean, s.SD)
	}
	for _, r := range d.Ratings {
		if !RatingsScale.Contains(float64(r.Value)) || r.Value*2 != float32(math.Round(float64(r.Value)*2)) {
			t.Fatalf("rating %v is not a half star in [1, 5]", r.Value)
		}
	}
	c := RatingsCatalog(d)
	if id := d.Items.Raw(0); c.Title(id) != "Synthetic movie "+id || len(c.Items) != 1000 {
		t.Errorf("catalogue: %d titles, item %s is %q", len(c.Items), id, c.Title(id))
	}
}

func ExampleRatings() {
	d, err := Ratings()
	if err != nil {
		panic(err)
	}
	fmt.Println(recsys.Summarize(d.Ratings))
	// Output: 50000 ratings, 600 users, 1000 items, mean 3.265, sd 1.014, density 0.0833
}
