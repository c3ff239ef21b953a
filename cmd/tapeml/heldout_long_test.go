//go:build long

package main

import (
	"path/filepath"
	"testing"
)

// The default TextCNN (Kim's architecture) on the built-in sample: test
// accuracy at least the seed model's 0.95, at least 0.70 on the short
// messages, and the training prior for a text without a known token.
// About 1 min on 2 cores: go test -tags long ./cmd/tapeml -run DefaultTextCNN
func TestDefaultTextCNNHeldOut(t *testing.T) {
	runDir := filepath.Join(t.TempDir(), "run")
	if status, _, stderr := runCLI(t, "", "train", "textcnn", "--out", runDir); status != 0 {
		t.Fatalf("train: %s", stderr)
	}
	ev := runEval(t, runDir)
	t.Logf("built-in sample test: accuracy %.4f, f1 %.4f, n %d", ev.Accuracy, ev.F1, ev.N)
	if ev.Accuracy < 0.95 {
		t.Errorf("test accuracy %.4f, want ≥ 0.95", ev.Accuracy)
	}
	if acc := shortMessageAccuracy(t, runDir); acc < 0.70 {
		t.Errorf("short messages: accuracy %.3f, want ≥ 0.70", acc)
	}
	checkNoEvidence(t, runDir)
}
