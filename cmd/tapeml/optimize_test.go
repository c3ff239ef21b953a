package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tapeml/tapeml"
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

// optimize of a tiny TextCNN with timing prints the per-layer table —
// each layer's times in float32 and int8 and which it kept — and the
// checkpoint it writes records the same choice: the layers kept in int8
// under "tensors", the others under "float32".
func TestOptimizePerLayerChoice(t *testing.T) {
	dir := t.TempDir()
	// 400 tickets of three kinds, so that the test split holds more than
	// one batch of 32.
	var csv strings.Builder
	csv.WriteString("text,label\n")
	topics := []struct{ label, words string }{
		{"billing", "invoice charged twice refund payment card"},
		{"shipping", "parcel late tracking courier delivery address"},
		{"login", "password reset locked account sign in code"},
	}
	for i := 0; i < 400; i++ {
		tp := topics[i%3]
		w := strings.Fields(tp.words)
		fmt.Fprintf(&csv, "\"my %s and %s, ticket %d, %s please\",%s\n", w[i%len(w)], w[(i/3)%len(w)], i, w[(i/7)%len(w)], tp.label)
	}
	data := filepath.Join(dir, "tickets.csv")
	if err := os.WriteFile(data, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	if status, out, stderr := runCLI(t, "", "train", "textcnn", "--data", data, "--epochs", "1", "--maxlen", "16", "--embed-dim", "8", "--filters", "4", "--num-words", "300", "--out", run); status != 0 {
		t.Fatalf("train: %s\n%s", stderr, out)
	}
	int8Dir := filepath.Join(dir, "int8")
	status, out, stderr := runCLI(t, "", "optimize", "--checkpoint", run, "--int8", "--calibrate", "2", "--rounds", "1", "--out", int8Dir)
	if status != 0 {
		t.Fatalf("optimize: status %d %s\n%s", status, stderr, out)
	}
	t.Logf("%s%s", out, stderr)
	if !strings.Contains(out, "int8 kept when > ") {
		t.Fatalf("no per-layer table in\n%s", out)
	}
	row := regexp.MustCompile(`(?m)^  (\S+)\s+(conv|linear)\s+(\d+)\s+(\d+)\s+[+-]\d+\.\d%\s+(int8|float32)$`)
	rows := row.FindAllStringSubmatch(out, -1)
	if len(rows) != 4 { // three convolution widths and the classifier
		t.Fatalf("%d layer rows, want 4:\n%s", len(rows), out)
	}
	raw, err := os.ReadFile(filepath.Join(int8Dir, "quantization.json"))
	if err != nil {
		t.Fatal(err)
	}
	var q struct {
		Tensors, Float32 map[string]string
	}
	if err := json.Unmarshal(raw, &q); err != nil {
		t.Fatal(err)
	}
	int8Layers := 0
	for _, r := range rows {
		w := r[1] + ".weight"
		_, isInt8 := q.Tensors[w]
		_, isFloat := q.Float32[w]
		if isInt8 == isFloat || isInt8 != (r[5] == "int8") {
			t.Errorf("layer %s printed %s; quantization.json: tensors %v, float32 %v", r[1], r[5], q.Tensors, q.Float32)
		}
		if r[5] == "int8" {
			int8Layers++
		}
	}
	if q.Tensors["embedding.weight"] != "embedding" {
		t.Errorf("the table is not stored in int8: %v", q.Tensors)
	}
	// With no layer in int8 one line says so, and no noise is reported
	// as slowness.
	if int8Layers == 0 && (!strings.Contains(stderr, "no layer is faster in int8") || strings.Contains(stderr, "slower")) {
		t.Errorf("no layer in int8, stderr:\n%s", stderr)
	}
	if m, err := tapeml.Load(int8Dir); err != nil {
		t.Error(err)
	} else if p, err := m.ClassifyTexts(context.Background(), []string{"my invoice was charged twice"}); err != nil || len(p) != 1 {
		t.Errorf("the mixed model does not serve: %v %v", p, err)
	}
}
