// Command mkratings writes synthetic ratings in MovieLens's ratings.csv
// layout (userId,movieId,rating,timestamp), from synth.Synthesize.
//
// The built-in sample that package samples embeds is
//
//	go run ./tools/mkratings -preset builtin -out samples/ratings.csv.gz
//
// (gzip-compressed when the name ends in .gz). The other presets make the
// data the recommender's figures were measured on: -preset mlsmall (shaped
// like ml-latest-small: 610 users, ~10k items, 100,836 ratings),
// -preset 1m (6,040 users, 3,900 items, 1,000,209 ratings, the scale
// benchmark) and -preset 25m (shaped like ml-25m: 162,541 users, 62,423
// items, 25,000,095 ratings from 0.5 to 5, about a minute and 1.3 GB of
// memory; docs/scale.md). -scale F multiplies a preset's users and ratings
// by F and keeps its catalogue (-preset 25m -scale 0.2 is 5M ratings).
// -seed changes the draw. -implicit writes an interaction log instead
// (userId,movieId,count,timestamp: the same users picking the same items,
// with counts of repeated views; synth.Config.AsInteractions), which
// tapeml train recsys --algo ials or bpr reads. The output is a pure function of the preset,
// scale and seed on a given platform; the embedded file is checked in so
// the sample is the same everywhere. The file is written atomically, and
// a summary of its shape goes to stderr.
package main

import (
	"bufio"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/tapeml/tapeml/atomicfile"
	"github.com/tapeml/tapeml/recsys"
	"github.com/tapeml/tapeml/tools/synth"
)

func main() {
	preset := flag.String("preset", "builtin", "builtin, mlsmall, 1m or 25m")
	seed := flag.Uint64("seed", 1, "generator seed")
	scale := flag.Float64("scale", 1, "multiply the preset's users and ratings by this (the catalogue is kept)")
	out := flag.String("out", "samples/ratings.csv.gz", "output file (.gz: gzip-compressed)")
	implicit := flag.Bool("implicit", false, "write an interaction log (userId,movieId,count,timestamp) instead of ratings")
	flag.Parse()
	if err := run(*preset, *seed, *scale, *implicit, *out); err != nil {
		fmt.Fprintln(os.Stderr, "mkratings:", err)
		os.Exit(1)
	}
}

// presets maps -preset to a generator configuration.
var presets = map[string]func() synth.Config{
	"builtin": synth.Builtin,
	"mlsmall": synth.MovieLensSmallLike,
	"1m":      synth.MovieLens1MLike,
	"25m":     synth.MovieLens25MLike,
}

func run(preset string, seed uint64, scale float64, implicit bool, out string) error {
	mk, ok := presets[preset]
	if !ok {
		return fmt.Errorf("unknown preset %q: want builtin, mlsmall, 1m or 25m", preset)
	}
	if !(scale > 0) || math.IsInf(scale, 0) {
		return fmt.Errorf("-scale %v: want a positive number", scale)
	}
	cfg := mk()
	if scale != 1 {
		cfg = cfg.Scaled(scale)
	}
	cfg.Seed = seed
	if implicit {
		cfg = cfg.AsInteractions()
	}
	d, err := synth.Synthesize(cfg)
	if err != nil {
		return err
	}
	err = atomicfile.WriteFile(out, func(f io.Writer) error {
		bw := bufio.NewWriterSize(f, 1<<20)
		var w io.Writer = bw
		var gz *gzip.Writer
		if strings.HasSuffix(out, ".gz") {
			gz, _ = gzip.NewWriterLevel(bw, gzip.BestCompression)
			w = gz
		}
		if err := recsys.WriteCSV(w, d); err != nil {
			return err
		}
		if gz != nil {
			if err := gz.Close(); err != nil {
				return err
			}
		}
		return bw.Flush()
	})
	if err != nil {
		return fmt.Errorf("%s: %w", out, err)
	}
	fmt.Fprintf(os.Stderr, "%s: %v\n%s\n", out, recsys.Summarize(d.Ratings), shape(d))
	return nil
}

// shape describes the ratings per user and per item, the figures a
// MovieLens-like set is compared on.
func shape(d *recsys.Dataset) string {
	perUser := make([]int, d.NumUsers())
	perItem := make([]int, d.NumItems())
	for _, r := range d.Ratings {
		perUser[r.User]++
		perItem[r.Item]++
	}
	slices.Sort(perUser)
	slices.Sort(perItem)
	under := func(xs []int, n int) int { k, _ := slices.BinarySearch(xs, n); return k }
	return fmt.Sprintf("ratings per user: min %d, median %d, max %d; per item: median %d, max %d, %d of %d items with fewer than 10",
		perUser[0], perUser[len(perUser)/2], perUser[len(perUser)-1],
		perItem[len(perItem)/2], perItem[len(perItem)-1], under(perItem, 10), len(perItem))
}
