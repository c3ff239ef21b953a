package main

import (
	"path/filepath"
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
