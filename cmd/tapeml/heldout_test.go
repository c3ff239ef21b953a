package main

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapeml/tapeml/samples"
	"github.com/tapeml/tapeml/textdata"
)

// runEval is eval --json of the run, with args.
func runEval(t *testing.T, runDir string, args ...string) evalJSON {
	t.Helper()
	status, out, stderr := runCLI(t, "", append([]string{"eval", "--checkpoint", runDir, "--json"}, args...)...)
	if status != 0 {
		t.Fatalf("eval failed: %s", stderr)
	}
	var ev evalJSON
	if err := json.Unmarshal([]byte(out), &ev); err != nil {
		t.Fatalf("eval --json: %v\n%s", err, out)
	}
	return ev
}

// shortMessageAccuracy is the accuracy of the run's model on
// testdata/short/messages.csv: 40 short messages (20 ham, 20 spam) written
// for this test, not taken from the SpamAssassin corpus.
func shortMessageAccuracy(t *testing.T, runDir string) float64 {
	t.Helper()
	return csvAccuracy(t, runDir, filepath.Join("..", "..", "testdata", "short", "messages.csv"))
}

// csvAccuracy is the accuracy of the run's model on the text,label rows of
// the CSV file at path, each error logged.
func csvAccuracy(t *testing.T, runDir, path string) float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows = rows[1:]
	var in strings.Builder
	for _, r := range rows {
		in.WriteString(r[0] + "\n")
	}
	status, out, stderr := runCLI(t, in.String(), "predict", "--checkpoint", runDir, "--json")
	if status != 0 {
		t.Fatalf("predict: %s", stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(rows) {
		t.Fatalf("%d predictions for %d messages", len(lines), len(rows))
	}
	right := 0
	for i, l := range lines {
		var p struct{ Class string }
		if err := json.Unmarshal([]byte(l), &p); err != nil {
			t.Fatal(err)
		}
		if p.Class == rows[i][1] {
			right++
		} else {
			t.Logf("%q (%s): %s", rows[i][0], rows[i][1], p.Class)
		}
	}
	acc := float64(right) / float64(len(rows))
	t.Logf("%s: %d/%d right, accuracy %.3f", filepath.Base(path), right, len(rows), acc)
	return acc
}

// checkNoEvidence: an empty text and one of unknown words carry no
// evidence; predict --json says so and answers the built-in sample's
// training prior.
func checkNoEvidence(t *testing.T, runDir string) {
	t.Helper()
	corpus, err := samples.SpamAssassin(textdata.TextOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	counts := corpus.Counts(corpus.Train)
	prior := float64(counts[1]) / float64(counts[0]+counts[1])
	status, out, stderr := runCLI(t, "\nqzxv wqpz zzyx\n", "predict", "--checkpoint", runDir, "--json")
	if status != 0 {
		t.Fatalf("predict: %s", stderr)
	}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var p struct {
			Probs      []float64
			NoEvidence bool `json:"no_evidence"`
		}
		if err := json.Unmarshal([]byte(l), &p); err != nil {
			t.Fatal(err)
		}
		if !p.NoEvidence || math.Abs(p.Probs[1]-prior) > 0.02 {
			t.Errorf("text without a known token: %s; want no_evidence and spam ≈ %.4f (the training prior)", l, prior)
		}
	}
	status, out, _ = runCLI(t, "\n", "predict", "--checkpoint", runDir)
	if status != 0 || !strings.Contains(out, "no known token") {
		t.Errorf("predict of an empty text: status %d, %q; want it to say no known token was found", status, out)
	}
}
