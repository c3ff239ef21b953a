package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// optimize's bad inputs give one-line errors and write nothing.
func TestOptimizeBadInput(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no checkpoint", []string{"optimize", "--int8", "--out", out}, "--checkpoint is required"},
		{"no --int8", []string{"optimize", "--checkpoint", "../../testdata/legacy/textcnn", "--out", out}, "--int8 is required"},
		{"no --out", []string{"optimize", "--checkpoint", "../../testdata/legacy/textcnn", "--int8"}, "--out is required"},
		{"calibrate 0 for a conv model", []string{"optimize", "--checkpoint", "../../testdata/legacy/textcnn", "--int8", "--calibrate", "0", "--out", out}, "--calibrate 0"},
		{"negative calibrate", []string{"optimize", "--checkpoint", "../../testdata/legacy/textcnn", "--int8", "--calibrate", "-2", "--out", out}, "--calibrate must be at least 0"},
		{"knn", []string{"optimize", "--checkpoint", "../../testdata/legacy/knn", "--int8", "--out", out}, "nothing to quantize"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, _, stderr := runCLI(t, "", c.args...)
			if status == 0 {
				t.Fatalf("exit status 0, want failure")
			}
			if n := strings.Count(strings.TrimSpace(stderr), "\n"); n != 0 || !strings.Contains(stderr, c.want) {
				t.Fatalf("error %q: want one line mentioning %q", stderr, c.want)
			}
		})
	}
}

// optimize of a tiny TextCNN prints the top-1 agreement with float32, and
// with --rounds 0 says on one "warning:" line that the speed was not
// checked, naming the flag; every warning is one line on stderr.
func TestOptimizeReportsAgreementAndWarnings(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	if status, out, stderr := runCLI(t, "", "train", "textcnn", "--data", "../../testdata/text/tickets.csv", "--epochs", "1", "--maxlen", "16", "--embed-dim", "8", "--filters", "4", "--num-words", "300", "--out", run); status != 0 {
		t.Fatalf("train: %s\n%s", stderr, out)
	}
	status, out, stderr := runCLI(t, "", "optimize", "--checkpoint", run, "--int8", "--calibrate", "2", "--rounds", "0", "--out", filepath.Join(dir, "int8"))
	if status != 0 {
		t.Fatalf("optimize: status %d %s\n%s", status, stderr, out)
	}
	if !regexp.MustCompile(`top-1 agreement with float32 on (\d+) test inputs: (\d+)/(\d+) \(\d+\.\d\d%\), max \|Δ probability\| `).MatchString(out) {
		t.Errorf("no top-1 agreement line in\n%s", out)
	}
	t.Logf("%s%s", out, stderr)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	speed := 0
	for _, l := range lines {
		if !strings.HasPrefix(l, "tapeml optimize: warning: ") {
			t.Errorf("stderr line %q does not start with \"tapeml optimize: warning: \"", l)
		}
		if strings.Contains(l, "speed not checked (--rounds 0)") {
			speed++
		}
	}
	if speed != 1 {
		t.Errorf("want one speed-not-checked warning naming --rounds 0, got stderr\n%s", stderr)
	}
	if strings.Contains(out, "batch-32 throughput") {
		t.Errorf("--rounds 0 printed a throughput:\n%s", out)
	}
}
