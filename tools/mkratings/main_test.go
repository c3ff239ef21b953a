package main

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tapeml/tapeml/recsys"
	"github.com/tapeml/tapeml/samples"
	"github.com/tapeml/tapeml/tools/synth"
)

func TestWritesReadableRatings(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ratings.csv")
	if err := run("builtin", 3, 1, false, out); err != nil {
		t.Fatal(err)
	}
	got, rep, err := recsys.ReadRatings(out, recsys.ReadOptions{Scale: recsys.Scale{Min: 1, Max: 5}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := synth.Builtin()
	cfg.Seed = 3
	want, _ := synth.Synthesize(cfg)
	if rep.Duplicates != 0 || !reflect.DeepEqual(got.Ratings, want.Ratings) || !reflect.DeepEqual(got.Items, want.Items) {
		t.Error("the written file does not read back as the generated ratings")
	}
	if err := run("huge", 1, 1, false, out); err == nil || !strings.Contains(err.Error(), "unknown preset") {
		t.Errorf("unknown preset: %v", err)
	}
}

// TestEmbeddedSampleIsCurrent fails when the generator or synth.Builtin
// changed without rebuilding samples/ratings.csv.gz (see the package
// documentation for the command).
func TestEmbeddedSampleIsCurrent(t *testing.T) {
	embedded, err := samples.Ratings()
	if err != nil {
		t.Fatal(err)
	}
	generated, err := synth.Synthesize(synth.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(embedded.Ratings, generated.Ratings) || !reflect.DeepEqual(embedded.Users, generated.Users) {
		t.Error("samples/ratings.csv.gz differs from synth.Synthesize(synth.Builtin()): rebuild it with go run ./tools/mkratings")
	}
}
