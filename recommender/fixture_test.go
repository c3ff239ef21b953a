package recommender_test

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// movieLensLike writes a ratings.csv and a movies.csv shaped like
// MovieLens's, from a model of its own (not tools/synth's): items belong
// to one or two of 12 genres and have a quality and a Zipf popularity;
// users love two or three genres and dislike one, rate at least 20 items
// (a long tail more), picking them by popularity and taste, and rate
// them 3.2 + their bias + quality + taste + noise in half stars, with
// increasing timestamps. It returns the two files' paths.
func movieLensLike(t testing.TB, dir string, users, items int, choosiness float64, seed uint64) (ratings, movies string) {
	t.Helper()
	const genres = 12
	rng := rand.New(rand.NewPCG(seed, 31))
	genreNames := []string{"Action", "Adventure", "Animation", "Comedy", "Crime", "Documentary", "Drama", "Fantasy", "Horror", "Musical", "Romance", "Sci-Fi"}
	itemGenres := make([][]int, items)
	quality := make([]float64, items)
	pop := make([]float64, items)
	var mv bytes.Buffer
	mv.WriteString("movieId,title,genres\n")
	for i, r := range rng.Perm(items) {
		itemGenres[i] = []int{rng.IntN(genres)}
		if rng.Float64() < 0.4 {
			itemGenres[i] = append(itemGenres[i], rng.IntN(genres))
		}
		quality[i] = rng.NormFloat64() * 0.5
		pop[i] = 1 / math.Pow(float64(r)+5, 1.1)
		g := genreNames[itemGenres[i][0]]
		if len(itemGenres[i]) > 1 {
			g += "|" + genreNames[itemGenres[i][1]]
		}
		fmt.Fprintf(&mv, "%d,\"Movie %d, The (%d)\",%s\n", i+1, i+1, 1950+rng.IntN(70), g)
	}
	var rt bytes.Buffer
	rt.WriteString("userId,movieId,rating,timestamp\n")
	for u := 0; u < users; u++ {
		taste := make([]float64, genres)
		for _, g := range rng.Perm(genres)[:2+rng.IntN(2)] {
			taste[g] = 1
		}
		taste[rng.IntN(genres)] = -0.7
		bias := rng.NormFloat64() * 0.3
		affinity := func(i int) float64 {
			var a float64
			for _, g := range itemGenres[i] {
				a += taste[g]
			}
			return a / float64(len(itemGenres[i]))
		}
		n := min(20+int(20*(math.Pow(1-rng.Float64(), -1/1.5)-1)), items/3)
		// Gumbel-top-n by weight popularity·exp(1.2·affinity).
		type key struct {
			k float64
			i int
		}
		keys := make([]key, items)
		for i := range keys {
			keys[i] = key{math.Log(pop[i]) + choosiness*affinity(i) - math.Log(-math.Log(rng.Float64())), i}
		}
		for a := 0; a < n; a++ { // partial selection sort: n ≪ items
			best := a
			for b := a + 1; b < items; b++ {
				if keys[b].k > keys[best].k {
					best = b
				}
			}
			keys[a], keys[best] = keys[best], keys[a]
		}
		ts := int64(1e9) + rng.Int64N(3e8)
		for _, k := range keys[:n] {
			i := k.i
			v := 3.2 + bias + quality[i] + 0.9*affinity(i) + rng.NormFloat64()*0.7
			v = min(max(math.Round(v*2)/2, 0.5), 5)
			ts += 1 + rng.Int64N(86400)
			fmt.Fprintf(&rt, "%d,%d,%g,%d\n", u+1, i+1, v, ts)
		}
	}
	ratings, movies = filepath.Join(dir, "ratings.csv"), filepath.Join(dir, "movies.csv")
	if err := os.WriteFile(ratings, rt.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(movies, mv.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return ratings, movies
}
