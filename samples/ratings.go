package samples

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"strconv"

	"github.com/tapeml/tapeml/recsys"
)

// ratingsFile is the embedded synthetic ratings set.
const ratingsFile = "ratings.csv.gz"

//go:embed ratings.csv.gz
var ratingsGzip []byte

// RatingsScale is the built-in ratings' scale: 1 to 5 stars in halves.
var RatingsScale = recsys.Scale{Min: 1, Max: 5}

// Ratings returns the built-in ratings set: synthetic, made by
// synth.Synthesize(synth.Builtin()) of tools/synth — 600 users, 1,000 items,
// 50,000 half-star ratings from 1 to 5 with low-rank preferences and
// popularity skew — stored as a MovieLens ratings.csv and read by the same
// reader as real data. It is not MovieLens.
func Ratings() (*recsys.Dataset, error) {
	gz, err := gzip.NewReader(bytes.NewReader(ratingsGzip))
	if err != nil {
		return nil, fmt.Errorf("samples: %s: %w", ratingsFile, err)
	}
	d, _, err := recsys.ParseRatings(gz, "samples/"+ratingsFile, recsys.ReadOptions{Format: recsys.CSV, Scale: RatingsScale})
	if err != nil {
		return nil, fmt.Errorf("samples: %w", err)
	}
	d.Source = "built-in synthetic ratings (samples/" + ratingsFile + ", tools/synth Builtin, seed 1)"
	return d, nil
}

// RatingsCatalog returns made-up titles for the built-in ratings' items,
// "Synthetic movie <id>", so that listings can show titles.
func RatingsCatalog(d *recsys.Dataset) *recsys.Catalog {
	c := &recsys.Catalog{Items: map[string]recsys.Item{}, Source: "synthetic titles"}
	for i := 0; i < d.NumItems(); i++ {
		id := d.Items.Raw(i)
		if _, err := strconv.Atoi(id); err == nil {
			c.Items[id] = recsys.Item{ID: id, Title: "Synthetic movie " + id}
		}
	}
	return c
}
