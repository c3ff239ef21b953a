package serve_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/recommender"
	"github.com/tapeml/tapeml/tapemltest"
	"github.com/tapeml/tapeml/train"
)

// convnetCheckpoint saves a small ConvNet (see tapemltest.SmallConvNet).
func convnetCheckpoint(t testing.TB, channels int) string {
	t.Helper()
	path, err := tapemltest.SmallConvNet(t.TempDir(), channels)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// recommenderCheckpoint trains MF (2 alternations, as `tapeml train
// recsys` does) on a small ratings file with a catalogue — 40 users
// rating 10 of 30 films, the first third liked by the even users, the
// rest by the odd — and returns its checkpoint folder. Film 7's title is
// markup, which a page must show as text.
func recommenderCheckpoint(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(31, 1))
	var ratings, movies strings.Builder
	ratings.WriteString("userId,movieId,rating,timestamp\n")
	movies.WriteString("movieId,title,genres\n")
	for i := 1; i <= 30; i++ {
		title := fmt.Sprintf("\"Film %d, The (%d)\"", i, 1970+i)
		if i == 7 {
			title = `"<img src=x onerror=""window.pwned=1"">"`
		}
		fmt.Fprintf(&movies, "%d,%s,Drama\n", i, title)
	}
	for u := 1; u <= 40; u++ {
		for k, i := range rng.Perm(30)[:10] {
			liked := (i < 10) == (u%2 == 0)
			r := 2 + rng.IntN(2)
			if liked {
				r = 4 + rng.IntN(2)
			}
			fmt.Fprintf(&ratings, "%d,%d,%d,%d\n", u, i+1, r, 1e9+u*100+k)
		}
	}
	rPath, mPath := filepath.Join(dir, "ratings.csv"), filepath.Join(dir, "movies.csv")
	writeFile(t, rPath, ratings.String())
	writeFile(t, mPath, movies.String())
	k, err := kinds.Lookup(recommender.Kind)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := train.NewSpec(k)
	if err != nil {
		t.Fatal(err)
	}
	d := spec.Data.(*recommender.Data)
	d.Path, d.Items = rPath, mPath
	spec.Out = filepath.Join(dir, "run")
	spec.Training.Epochs, spec.Set["epochs"] = 2, true
	spec.Progress = io.Discard
	res, err := train.Run(context.Background(), *spec)
	if err != nil {
		t.Fatal(err)
	}
	return res.Checkpoint
}
