// Package synth generates synthetic ratings sets shaped like MovieLens's:
// the compiled-in sample (samples.Ratings, written by tools/mkratings)
// and the sets the recommenders' defaults and scale figures were measured
// on, since MovieLens cannot be downloaded where tapeml is developed. It is
// a development tool: the library reads ratings and never makes them, and
// only tests and tools import this package.
package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/tapeml/tapeml/recsys"
)

// Config describes a synthetic ratings set; see Synthesize for the
// model. Every field is used as given: start from a preset (Builtin,
// MovieLensSmallLike, MovieLens1MLike) and change what you need.
type Config struct {
	Users   int // users; built-in 600
	Items   int // catalogue size (items no one rates are absent from the result, as in a real file); built-in 1000
	Ratings int // ratings in total; built-in 50,000
	Factors int // rank of the users' and items' latent preferences; built-in 8

	MinPerUser    int     // ratings every user has at least (MovieLens keeps users with ≥ 20); built-in 20
	ActivityShape float64 // tail index of the Lomax (Pareto from 0) activity beyond MinPerUser: smaller is more skewed; built-in 1.6
	MaxUserShare  float64 // the most a user rates, as a share of the catalogue; built-in 0.6

	PopularityExponent float64 // Zipf exponent s of item popularity ∝ 1/(rank+PopularityOffset)^s; built-in 1.0
	PopularityOffset   float64 // flattens the head of the Zipf curve; built-in 10

	Mean           float64 // latent mean rating before selection, rounding and clipping; built-in 2.9
	UserBiasSD     float64 // standard deviation of user biases; built-in 0.4
	ItemBiasSD     float64 // standard deviation of item biases; built-in 0.45
	PopularQuality float64 // correlation of an item's bias with its log-popularity; built-in 0.3
	TasteSD        float64 // standard deviation of the interaction p_u·q_i; built-in 0.5
	NoiseSD        float64 // standard deviation of the per-rating noise; built-in 0.8
	Choosiness     float64 // β: a user rates item i with weight popularity_i·exp(β·(b_i + p_u·q_i)); 0 picks by popularity alone; built-in 1.0
	HalfStarShare  float64 // share of users who use half stars (the others round to whole stars); built-in 0.5
	MinRating      float64 // the lowest rating, 1 or 0.5 (MovieLens since 2003: 0.5–5 in halves); the highest is 5; built-in 1

	// Rejection samples each user's items by proposals from the items'
	// user-independent weights instead of ranking the whole catalogue for
	// every user, so generation takes time in proportion to the ratings
	// rather than users × items (162,541 × 62,423 for MovieLens25MLike);
	// see Synthesize. Built-in false.
	Rejection bool

	// Interactions makes an interaction log instead of ratings: each item
	// a user picks gets a count of 1 + Poisson(RepeatRate·exp(a)), a being
	// what the rating would have been before the mean, rounding and
	// clipping (b_u + b_i + p_u·q_i + noise), so that liked items are
	// revisited; see AsInteractions. Built-in false.
	Interactions bool
	RepeatRate   float64 // see Interactions; AsInteractions sets 0.5

	Seed uint64 // every random draw derives from it; built-in 1
}

// AsInteractions returns c making an interaction log (views or plays with
// counts) instead of ratings. In a log the choice is the only signal of
// taste, so users choose by taste as much as by popularity: Choosiness 2,
// which gives 2·p_u·q_i the spread of the log-popularity (about 1 for
// the presets), where ratings data need 1 to match MovieLens's rating
// distribution.
func (c Config) AsInteractions() Config {
	c.Interactions, c.RepeatRate, c.Choosiness = true, 0.5, 2
	return c
}

// Builtin is the configuration of the compiled-in sample
// (samples.Ratings): 600 users, 1,000 items, 50,000 ratings.
func Builtin() Config {
	return Config{
		Users: 600, Items: 1000, Ratings: 50000, Factors: 8,
		MinPerUser: 20, ActivityShape: 1.6, MaxUserShare: 0.6,
		PopularityExponent: 1.0, PopularityOffset: 10,
		Mean: 2.9, UserBiasSD: 0.45, ItemBiasSD: 0.45, PopularQuality: 0.3,
		TasteSD: 0.45, NoiseSD: 0.73, Choosiness: 1.0, HalfStarShare: 0.5, MinRating: 1,
		Seed: 1,
	}
}

// MovieLensSmallLike imitates ml-latest-small's shape: 610 users, 10,210
// rated items (ml-latest-small: 9,724), 100,836 ratings, each user with at
// least 20 (median 72, most 2,755), a third of the items rated once, mean
// 3.47 and standard deviation 1.01 (3.50 and 1.04). The bias baseline's
// test RMSE on it is 0.862 (about 0.87 on ml-latest-small). Model defaults
// are calibrated on it: MovieLens itself cannot be downloaded where tapeml
// is developed.
func MovieLensSmallLike() Config {
	c := Builtin()
	c.Users, c.Items, c.Ratings = 610, 14500, 100836
	c.PopularityExponent, c.PopularityOffset = 1.4, 60
	c.MaxUserShare = 0.19 // ml-latest-small's most active user rated 2,698 items
	return c
}

// MovieLens1MLike is the scale benchmark's set, shaped like ml-1m: 6,040
// users, 3,900 items, 1,000,209 ratings.
func MovieLens1MLike() Config {
	c := Builtin()
	c.Users, c.Items, c.Ratings = 6040, 3900, 1000209
	c.PopularityOffset = 30
	return c
}

// MovieLens25MLike imitates ml-25m's shape: 162,541 users, a catalogue of
// 62,423 items of which 61,448 get ratings (ml-25m rates 59,047 of its
// 62,423 movies), 25,000,095 ratings from 0.5 to 5 in halves with mean
// 3.53 and standard deviation 1.01 (ml-25m: 3.53, 1.06), each user with at
// least 20 (median 65, most 32,210; ml-25m: 71 and 32,202), the most rated
// item 76,210 times (ml-25m: 81,491), the median item 14 times. It
// generates by rejection sampling (Rejection), in about half a minute.
func MovieLens25MLike() Config {
	c := Builtin()
	c.Users, c.Items, c.Ratings = 162541, 62423, 25000095
	c.MaxUserShare = 0.516 // 32,210 of 62,423
	c.PopularityExponent, c.PopularityOffset = 2.5, 400
	c.Mean = 2.85
	c.MinRating, c.Rejection = 0.5, true
	return c
}

// Small is a quick set for tests: 80 users, 120 items, 3,000 ratings.
func Small() Config {
	c := Builtin()
	c.Users, c.Items, c.Ratings, c.MinPerUser = 80, 120, 3000, 10
	return c
}

// Scaled returns c with users and ratings multiplied by f (the catalogue
// kept), for measurements at 1M, 5M and 25M ratings of one shape.
func (c Config) Scaled(f float64) Config {
	c.Users = max(1, int(math.Round(float64(c.Users)*f)))
	c.Ratings = max(c.Users*c.MinPerUser, int(math.Round(float64(c.Ratings)*f)))
	return c
}

func (c Config) validate() error {
	switch {
	case c.Users < 1 || c.Items < 1 || c.Factors < 1:
		return fmt.Errorf("synthetic ratings: users %d, items %d and factors %d must be at least 1", c.Users, c.Items, c.Factors)
	case c.MinPerUser < 1:
		return fmt.Errorf("synthetic ratings: min per user %d must be at least 1", c.MinPerUser)
	case !(c.MaxUserShare > 0 && c.MaxUserShare <= 1):
		return fmt.Errorf("synthetic ratings: max user share %v must be in (0, 1]", c.MaxUserShare)
	case c.MinPerUser > int(c.MaxUserShare*float64(c.Items)):
		return fmt.Errorf("synthetic ratings: min per user %d exceeds %v of %d items", c.MinPerUser, c.MaxUserShare, c.Items)
	case c.Ratings < c.Users*c.MinPerUser:
		return fmt.Errorf("synthetic ratings: %d ratings cannot give %d users %d each", c.Ratings, c.Users, c.MinPerUser)
	case c.Ratings > c.Users*int(c.MaxUserShare*float64(c.Items)):
		return fmt.Errorf("synthetic ratings: %d ratings exceed %d users × %v of %d items", c.Ratings, c.Users, c.MaxUserShare, c.Items)
	case !(c.ActivityShape > 0) || c.PopularityExponent < 0 || c.PopularityOffset < 0:
		return fmt.Errorf("synthetic ratings: activity shape must be positive, popularity exponent and offset not negative")
	case c.UserBiasSD < 0 || c.ItemBiasSD < 0 || c.TasteSD < 0 || c.NoiseSD < 0:
		return fmt.Errorf("synthetic ratings: standard deviations must not be negative")
	case !(c.PopularQuality >= -1 && c.PopularQuality <= 1) || !(c.HalfStarShare >= 0 && c.HalfStarShare <= 1):
		return fmt.Errorf("synthetic ratings: popular quality must be in [−1, 1] and half-star share in [0, 1]")
	case c.MinRating != 1 && c.MinRating != 0.5:
		return fmt.Errorf("synthetic ratings: min rating %v: want 1 or 0.5", c.MinRating)
	case c.Rejection && (c.Choosiness < 0 || c.Choosiness > 4):
		return fmt.Errorf("synthetic ratings: rejection sampling needs choosiness in [0, 4], got %v", c.Choosiness)
	case c.Interactions && !(c.RepeatRate >= 0 && c.RepeatRate <= 100):
		return fmt.Errorf("synthetic interactions: repeat rate %v: want 0 to 100", c.RepeatRate)
	}
	return nil
}

// Synthesize generates a ratings set on the MinRating–5 half-star scale:
//
//   - Items have a popularity rank (a random permutation of the ids) and
//     weight 1/(rank+PopularityOffset)^PopularityExponent, a Zipf-like long
//     tail; each has a bias b_i, correlated with its log-popularity by
//     PopularQuality, and a taste vector q_i. Users have a bias b_u, a
//     taste vector p_u, and an activity: MinPerUser ratings plus a share of
//     the rest in proportion to a Lomax (Pareto) draw (capped at MaxUserShare of
//     the catalogue), so a few users rate a great deal.
//   - A user picks which items to rate without replacement, with weight
//     popularity_i · exp(Choosiness·(b_i + p_u·q_i)): people watch what is
//     popular and what they expect to like, so ratings are missing not at
//     random, as in MovieLens. The sample is drawn by Gumbel-top-k over the
//     whole catalogue, or with Rejection by successive draws: propose an
//     item by popularity_i·exp(Choosiness·b_i) (an alias table), accept it
//     with probability exp(Choosiness·(p_u·q_i − 4σ_u)), σ_u = TasteSD·|p_u|/√Factors
//     being the spread of p_u·q_i over items, and redraw items already
//     chosen. That is the same distribution except for the few items with
//     p_u·q_i above 4σ_u (3 in 100,000), whose weight is capped; users who
//     rate more than an eighth of the catalogue, where redraws would
//     dominate, are drawn by Gumbel-top-k.
//   - A rating is Mean + b_u + b_i + p_u·q_i + noise, rounded to half stars
//     (or whole stars for the users who never give halves) and clipped to
//     [MinRating, 5] (whole-star users to [1, 5]).
//   - Each user's ratings get increasing timestamps from a random start in
//     2000–2018, in random order, so temporal splits are meaningful.
//   - With Interactions, a picked item gets a count instead of a rating
//     (see Config.Interactions), and the dataset is Implicit.
//
// Users and items get raw ids "1", "2", … (their generation order), and
// ratings come by user, then time. The result is a pure function of c.
func Synthesize(c Config) (*recsys.Dataset, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	stream := func(k uint64) *rand.Rand { return rand.New(rand.NewPCG(c.Seed, 0x5e7a0000+k)) }
	f := c.Factors

	// Items: popularity, bias, taste.
	rng := stream(1)
	rank := rng.Perm(c.Items)
	logPop := make([]float64, c.Items)
	var lpMean, lpSq float64
	for i, r := range rank {
		logPop[i] = -c.PopularityExponent * math.Log(float64(r)+1+c.PopularityOffset)
		lpMean += logPop[i]
	}
	lpMean /= float64(c.Items)
	for _, v := range logPop {
		lpSq += (v - lpMean) * (v - lpMean)
	}
	lpSD := math.Sqrt(lpSq / float64(c.Items))
	itemBias := make([]float64, c.Items)
	q := make([]float64, c.Items*f)
	qScale := c.TasteSD / math.Sqrt(float64(f))
	for i := range itemBias {
		z := 0.0
		if lpSD > 0 {
			z = (logPop[i] - lpMean) / lpSD
		}
		itemBias[i] = c.ItemBiasSD * (c.PopularQuality*z + math.Sqrt(1-c.PopularQuality*c.PopularQuality)*rng.NormFloat64())
		for k := 0; k < f; k++ {
			q[i*f+k] = rng.NormFloat64() * qScale
		}
	}

	// Users: bias, taste, star habit, activity.
	rng = stream(2)
	userBias := make([]float64, c.Users)
	p := make([]float64, c.Users*f)
	halfStars := make([]bool, c.Users)
	activity := make([]float64, c.Users)
	for u := range userBias {
		userBias[u] = rng.NormFloat64() * c.UserBiasSD
		for k := 0; k < f; k++ {
			p[u*f+k] = rng.NormFloat64()
		}
		halfStars[u] = rng.Float64() < c.HalfStarShare
		activity[u] = math.Pow(1-rng.Float64(), -1/c.ActivityShape) - 1 // Lomax: Pareto shifted to start at 0
	}
	counts := allocate(activity, c.Ratings-c.Users*c.MinPerUser, int(c.MaxUserShare*float64(c.Items))-c.MinPerUser)

	// Each user's items and ratings.
	pick := newItemPicker(c, logPop, itemBias, q)
	ratings := make([]recsys.Rating, 0, c.Ratings)
	for u := 0; u < c.Users; u++ {
		rng := stream(1000 + uint64(u))
		pu := p[u*f : (u+1)*f]
		chosen := pick.items(rng, pu, c.MinPerUser+counts[u])
		rng.Shuffle(len(chosen), func(a, b int) { chosen[a], chosen[b] = chosen[b], chosen[a] })
		t := 946684800 + rng.Int64N(1514764800-946684800) // 2000-01-01 .. 2018-01-01
		step := 1.0
		if !halfStars[u] {
			step = 2
		}
		for _, i := range chosen {
			a := userBias[u] + itemBias[i] + pick.dot(pu, i) + rng.NormFloat64()*c.NoiseSD
			v := c.Mean + a
			v = math.Round(v*2/step) * step / 2
			v = min(max(v, c.MinRating, step/2), 5) // whole-star users give at least 1
			if c.Interactions {
				v = float64(1 + poisson(rng, min(c.RepeatRate*math.Exp(a), 100)))
			}
			t += 1 + int64(rng.ExpFloat64()*86400)
			ratings = append(ratings, recsys.Rating{User: int32(u), Item: int32(i), Value: float32(v), Time: t})
		}
	}

	// Raw ids: generation index + 1; dense indices in order of appearance,
	// as a reader would give.
	d := &recsys.Dataset{Users: &recsys.IDMap{}, Items: &recsys.IDMap{}, Scale: recsys.Scale{Min: c.MinRating, Max: 5},
		Source: fmt.Sprintf("synthetic: %d users, %d items, %d ratings, seed %d", c.Users, c.Items, c.Ratings, c.Seed), Implicit: c.Interactions}
	// In place: at 25M ratings a copy is another 600 MB.
	for k := range ratings {
		r := &ratings[k]
		r.User = int32(d.Users.Add(strconv.Itoa(int(r.User) + 1)))
		r.Item = int32(d.Items.Add(strconv.Itoa(int(r.Item) + 1)))
	}
	d.Ratings = ratings
	return d, nil
}

// poisson draws from Poisson(mean) by Knuth's method (mean ≤ 100).
func poisson(rng *rand.Rand, mean float64) int {
	limit, p, k := math.Exp(-mean), 1.0, 0
	for {
		p *= rng.Float64()
		if p <= limit {
			return k
		}
		k++
	}
}

// allocate splits total among users in proportion to weight, in whole
// numbers, none above limit; what a capped user cannot take goes to the
// others.
func allocate(weight []float64, total, limit int) []int {
	out := make([]int, len(weight))
	open := make([]bool, len(weight))
	for u := range open {
		open[u] = true
	}
	for left := total; left > 0; {
		var sum float64
		for u, w := range weight {
			if open[u] {
				sum += w
			}
		}
		if sum == 0 {
			break
		}
		type frac struct {
			u int
			f float64
		}
		var fracs []frac
		given := 0
		for u, w := range weight {
			if !open[u] {
				continue
			}
			share := float64(left) * w / sum
			whole := int(share)
			out[u] += whole
			given += whole
			fracs = append(fracs, frac{u, share - float64(whole)})
		}
		// Largest remainders get the units rounding left over.
		slices.SortFunc(fracs, func(a, b frac) int {
			switch {
			case a.f > b.f:
				return -1
			case a.f < b.f:
				return 1
			}
			return a.u - b.u
		})
		for k := 0; given < left && k < len(fracs); k++ {
			out[fracs[k].u]++
			given++
		}
		left = 0
		for u := range out {
			if out[u] > limit {
				left += out[u] - limit
				out[u] = limit
				open[u] = false
			}
		}
	}
	return out
}
