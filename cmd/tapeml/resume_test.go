package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapeml/tapeml/checkpoint"
)

// --resume checks the epoch and step meta.json records against the run:
// an epoch of -1 or 0 was accepted, retrained over the existing epoch
// checkpoints and wrote a history with repeated epochs (issue 28, point
// 9). Resuming an earlier epoch of the run needs --force.
func TestResumeChecksEpochAndStep(t *testing.T) {
	run := filepath.Join(t.TempDir(), "run")
	if status, out, stderr := runCLI(t, "", append(tinyText(t), "--epochs", "3", "--out", run)...); status != 0 {
		t.Fatalf("train: %s\n%s", stderr, out)
	}
	latest := filepath.Join(run, "epoch-0003")
	metaPath := filepath.Join(latest, checkpoint.MetaFile)
	original, err := os.ReadFile(metaPath)
	if err != nil {
		t.Fatal(err)
	}
	tamper := func(field string, v any) {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal(original, &m); err != nil {
			t.Fatal(err)
		}
		m[field] = v
		b, _ := json.Marshal(m)
		replaceFile(t, metaPath, b)
	}
	sums := map[string]string{}
	for _, d := range []string{"epoch-0001", "epoch-0002", "best"} {
		sums[d] = checkpointSums(t, filepath.Join(run, d))
	}
	for _, tc := range []struct {
		name  string
		field string
		value any
		want  string
	}{
		{"epoch -1", "epoch", -1, "epoch -1: a resumable checkpoint has completed at least epoch 1"},
		{"epoch 0", "epoch", 0, "epoch 0: a resumable checkpoint"},
		{"epoch of another folder", "epoch", 2, "epoch 2, but its folder epoch-0003 holds epoch 3"},
		{"step 0", "step", 0, "step 0 is below epoch 3"},
		{"step -5", "step", -5, "step -5 is below epoch 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tamper(tc.field, tc.value)
			status, stdout, stderr := runCLI(t, "", "train", "textcnn", "--resume", run, "--epochs", "5")
			if status != exitFailed || !strings.Contains(stderr, "--resume: ") || !strings.Contains(stderr, tc.want) {
				t.Fatalf("status %d, stderr %q, stdout %q; want %q", status, stderr, stdout, tc.want)
			}
		})
	}
	replaceFile(t, metaPath, original)
	for d, want := range sums {
		if got := checkpointSums(t, filepath.Join(run, d)); got != want {
			t.Errorf("%s changed", d)
		}
	}

	// An earlier epoch of the run: its later epochs would be saved over.
	status, _, stderr := runCLI(t, "", "train", "textcnn", "--resume", filepath.Join(run, "epoch-0001"), "--epochs", "5")
	if status != exitFailed || !strings.Contains(stderr, "holds epoch 1, but its run has reached epoch 3: resuming would save over epochs 2-3") || !strings.Contains(stderr, "--force") {
		t.Fatalf("status %d, stderr %q", status, stderr)
	}
	if status, out, stderr := runCLI(t, "", "train", "textcnn", "--resume", run, "--epochs", "4"); status != 0 || !strings.Contains(out, "resuming") {
		t.Fatalf("a genuine resume: status %d, %s\n%s", status, stderr, out)
	}
	if status, out, stderr := runCLI(t, "", "train", "textcnn", "--resume", filepath.Join(run, "epoch-0002"), "--epochs", "3", "--force"); status != 0 {
		t.Fatalf("an earlier epoch with --force: status %d, %s\n%s", status, stderr, out)
	}
}

// replaceFile writes a new file at path: best/ shares the epoch's files
// by hard links, which writing in place would change too.
func replaceFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	write(t, path, b)
}
