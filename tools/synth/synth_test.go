package synth

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/tapeml/tapeml/recsys"
)

func TestSynthesizeDeterministic(t *testing.T) {
	a, err := Synthesize(Small())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Synthesize(Small())
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same configuration gave different data")
	}
	c := Small()
	c.Seed = 2
	other, _ := Synthesize(c)
	if reflect.DeepEqual(a.Ratings, other.Ratings) {
		t.Error("another seed gave the same data")
	}
}

func TestSynthesizeShape(t *testing.T) {
	cfg := Small()
	d, err := Synthesize(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Ratings) != cfg.Ratings || d.NumUsers() != cfg.Users || d.NumItems() > cfg.Items {
		t.Errorf("%d ratings, %d users, %d items; want %d, %d, ≤ %d", len(d.Ratings), d.NumUsers(), d.NumItems(), cfg.Ratings, cfg.Users, cfg.Items)
	}
	perUser := map[int32]int{}
	perItem := map[int32]int{}
	lastTime := map[int32]int64{}
	for k, r := range d.Ratings {
		v := float64(r.Value)
		if v < 1 || v > 5 || v*2 != math.Round(v*2) {
			t.Fatalf("rating %d is %v: want half stars in [1, 5]", k, v)
		}
		if r.Time <= lastTime[r.User] {
			t.Fatalf("rating %d: user %d's timestamps do not increase", k, r.User)
		}
		lastTime[r.User] = r.Time
		perUser[r.User]++
		perItem[r.Item]++
	}
	most, least := 0, math.MaxInt
	for _, n := range perUser {
		most, least = max(most, n), min(least, n)
	}
	if least < cfg.MinPerUser || most > int(cfg.MaxUserShare*float64(cfg.Items)) || most < 3*least {
		t.Errorf("ratings per user from %d to %d: want ≥ %d, ≤ %v of the items, and skewed", least, most, cfg.MinPerUser, cfg.MaxUserShare)
	}
	itemMost := 0
	for _, n := range perItem {
		itemMost = max(itemMost, n)
	}
	if mean := float64(len(d.Ratings)) / float64(len(perItem)); float64(itemMost) < 2*mean {
		t.Errorf("the most rated item has %d ratings, the mean is %.0f: want a long tail", itemMost, mean)
	}
	if s := recsys.Summarize(d.Ratings); s.Mean < 3 || s.Mean > 3.8 || s.SD < 0.8 || s.SD > 1.2 {
		t.Errorf("stats %v: want a MovieLens-like mean and spread", s)
	}
}

func TestSynthesizeRejects(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no users", func(c *Config) { c.Users = 0 }, "must be at least 1"},
		{"too few ratings", func(c *Config) { c.Ratings = 10 }, "cannot give 80 users 10 each"},
		{"too many ratings", func(c *Config) { c.Ratings = 80 * 120 }, "exceed"},
		{"negative noise", func(c *Config) { c.NoiseSD = -1 }, "must not be negative"},
		{"bad share", func(c *Config) { c.MaxUserShare = 0 }, "max user share"},
		{"min rating", func(c *Config) { c.MinRating = 0 }, "min rating 0"},
	}
	for _, c := range cases {
		cfg := Small()
		c.change(&cfg)
		if _, err := Synthesize(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}

func TestAllocate(t *testing.T) {
	got := allocate([]float64{1, 1, 8}, 10, 5)
	if !reflect.DeepEqual(got, []int{3, 2, 5}) && !reflect.DeepEqual(got, []int{2, 3, 5}) {
		t.Errorf("allocate = %v, want the capped remainder spread evenly", got)
	}
	if got := allocate([]float64{0, 0}, 5, 10); !reflect.DeepEqual(got, []int{0, 0}) {
		t.Errorf("zero weights: %v", got)
	}
}

func TestAliasTable(t *testing.T) {
	w := []float64{1, 0, 3, 6}
	a := newAliasTable(w)
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 200000
	counts := make([]int, len(w))
	for range n {
		counts[a.draw(rng)]++
	}
	for i, x := range w {
		want := x / 10 * n
		if math.Abs(float64(counts[i])-want) > 4*math.Sqrt(want+1) {
			t.Errorf("index %d drawn %d times in %d, want about %.0f", i, counts[i], n, want)
		}
	}
}

// TestRejectionMatchesGumbel checks that the rejection sampler draws items
// as the exact Gumbel-top-k one does: the same items are popular, the
// ratings have the same mean, and MinRating 0.5 gives half stars from 0.5.
func TestRejectionMatchesGumbel(t *testing.T) {
	cfg := Builtin()
	cfg.Users, cfg.Items, cfg.Ratings, cfg.MinPerUser = 600, 1000, 36000, 20
	cfg.MaxUserShare = 0.1 // every user below an eighth of the catalogue: all by rejection
	exact, err := Synthesize(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Rejection, cfg.MinRating = true, 0.5
	rej, err := Synthesize(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rej.Ratings) != cfg.Ratings || rej.Scale != (recsys.Scale{Min: 0.5, Max: 5}) {
		t.Fatalf("%d ratings on %v, want %d on [0.5, 5]", len(rej.Ratings), rej.Scale, cfg.Ratings)
	}
	perItem := func(d *recsys.Dataset) []float64 {
		c := make([]float64, cfg.Items)
		for _, r := range d.Ratings {
			id, _ := strconv.Atoi(d.Items.Raw(int(r.Item)))
			c[id-1]++
		}
		return c
	}
	a, b := perItem(exact), perItem(rej)
	if r := correlation(a, b); r < 0.95 {
		t.Errorf("per-item rating counts correlate %.3f between the samplers, want ≥ 0.95", r)
	}
	halves := 0
	for _, r := range rej.Ratings {
		v := float64(r.Value)
		if v < 0.5 || v > 5 || v*2 != math.Round(v*2) {
			t.Fatalf("rating %v: want half stars in [0.5, 5]", v)
		}
		if v == 0.5 {
			halves++
		}
	}
	if halves == 0 {
		t.Error("no rating of 0.5 with MinRating 0.5")
	}
	se, sr := recsys.Summarize(exact.Ratings), recsys.Summarize(rej.Ratings)
	if math.Abs(se.Mean-sr.Mean) > 0.05 || math.Abs(se.SD-sr.SD) > 0.05 {
		t.Errorf("exact %v, rejection %v: want the same mean and spread", se, sr)
	}
}

func correlation(a, b []float64) float64 {
	var ma, mb float64
	for i := range a {
		ma, mb = ma+a[i], mb+b[i]
	}
	ma, mb = ma/float64(len(a)), mb/float64(len(b))
	var sab, saa, sbb float64
	for i := range a {
		sab += (a[i] - ma) * (b[i] - mb)
		saa += (a[i] - ma) * (a[i] - ma)
		sbb += (b[i] - mb) * (b[i] - mb)
	}
	return sab / math.Sqrt(saa*sbb)
}
