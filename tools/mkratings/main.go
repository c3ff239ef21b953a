// Command mkratings writes synthetic ratings in MovieLens's ratings.csv
// layout (userId,movieId,rating,timestamp), from recsys.Synthesize.
//
// The built-in sample that package samples embeds is
//
//	go run ./tools/mkratings -preset builtin -out samples/ratings.csv.gz
//
// (gzip-compressed when the name ends in .gz). The other presets make the
// data the recommender's figures were measured on: -preset mlsmall (shaped
// like ml-latest-small: 610 users, ~10k items, 100,836 ratings) and
// -preset 1m (6,040 users, 3,900 items, 1,000,209 ratings, the scale
// benchmark). -seed changes the draw. The output is a pure function of the
// preset and seed on a given platform; the embedded file is checked in so
// the sample is the same everywhere.
package main

import (
	"bufio"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/tapeml/tapeml/recsys"
)

func main() {
	preset := flag.String("preset", "builtin", "builtin, mlsmall or 1m")
	seed := flag.Uint64("seed", 1, "generator seed")
	out := flag.String("out", "samples/ratings.csv.gz", "output file (.gz: gzip-compressed)")
	flag.Parse()
	if err := run(*preset, *seed, *out); err != nil {
		fmt.Fprintln(os.Stderr, "mkratings:", err)
		os.Exit(1)
	}
}

// presets maps -preset to a generator configuration.
var presets = map[string]func() recsys.SynthConfig{
	"builtin": recsys.BuiltinSynth,
	"mlsmall": recsys.MovieLensSmallLike,
	"1m":      recsys.Synth1M,
}

func run(preset string, seed uint64, out string) (err error) {
	mk, ok := presets[preset]
	if !ok {
		return fmt.Errorf("unknown preset %q: want builtin, mlsmall or 1m", preset)
	}
	cfg := mk()
	cfg.Seed = seed
	d, err := recsys.Synthesize(cfg)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	bw := bufio.NewWriter(f)
	var w io.Writer = bw
	var gz *gzip.Writer
	if strings.HasSuffix(out, ".gz") {
		gz, _ = gzip.NewWriterLevel(bw, gzip.BestCompression)
		w = gz
	}
	if err := recsys.WriteCSV(w, d); err != nil {
		return fmt.Errorf("%s: %w", out, err)
	}
	if gz != nil {
		if err := gz.Close(); err != nil {
			return fmt.Errorf("%s: %w", out, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("%s: %w", out, err)
	}
	fmt.Fprintf(os.Stderr, "%s: %v\n", out, recsys.Summarize(d.Ratings))
	return nil
}
