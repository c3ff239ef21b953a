package main

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/models/convnet"
	"github.com/tapeml/tapeml/train"
)

func TestPrivacyCommand(t *testing.T) {
	// The MNIST setting of Abadi et al.: σ 1.12, q 256/60000, 60 epochs.
	status, out, errOut := runCLI(t, "", "privacy", "--noise", "1.12", "--sample-rate", "0.004266666666666667", "--epochs", "60", "--delta", "1e-5", "--classic", "--json")
	if status != 0 {
		t.Fatalf("status %d: %s", status, errOut)
	}
	var r struct {
		Epsilon float64 `json:"epsilon"`
		Steps   int     `json:"steps"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	if math.Abs(r.Epsilon-2.92) > 0.02 || r.Steps != 14062 {
		t.Errorf("epsilon %v over %d steps, want 2.92 over 14062", r.Epsilon, r.Steps)
	}
	status, out, _ = runCLI(t, "", "privacy", "--target-epsilon", "2.9222", "--sample-rate", "0.004266666666666667", "--steps", "14062", "--classic")
	if status != 0 || !strings.Contains(out, "noise multiplier 1.12") {
		t.Errorf("target epsilon: status %d, %q", status, out)
	}
}

// The accountant never prints a negative epsilon (δ 0.999999 gave −3.34)
// nor a positive one for 0 steps (--epochs 0 gave 0.103), and δ outside
// (0, 1) is a usage error (issue 28, point 9).
func TestPrivacyEdges(t *testing.T) {
	eps := func(args ...string) float64 {
		t.Helper()
		status, out, stderr := runCLI(t, "", append([]string{"privacy", "--sample-rate", "0.01", "--json"}, args...)...)
		if status != 0 {
			t.Fatalf("%v: status %d, %s", args, status, stderr)
		}
		var r struct{ Epsilon *float64 }
		if err := json.Unmarshal([]byte(out), &r); err != nil || r.Epsilon == nil {
			t.Fatalf("%v: %q", args, out)
		}
		return *r.Epsilon
	}
	for _, args := range [][]string{
		{"--noise", "1", "--steps", "100", "--delta", "0.999999"},
		{"--noise", "1", "--steps", "100", "--delta", "0.999999", "--classic"},
	} {
		if e := eps(args...); e < 0 {
			t.Errorf("%v: epsilon %v < 0", args, e)
		}
	}
	for _, args := range [][]string{
		{"--noise", "1", "--epochs", "0"},
		{"--noise", "1", "--steps", "0"},
		{"--noise", "0", "--steps", "0"},
		{"--noise", "1", "--epochs", "0", "--classic"},
	} {
		if e := eps(args...); e != 0 {
			t.Errorf("%v: epsilon %v, want 0", args, e)
		}
	}
	status, out, _ := runCLI(t, "", "privacy", "--sample-rate", "0.01", "--noise", "1", "--epochs", "0")
	if status != 0 || !strings.Contains(out, "epsilon 0 at delta 1e-05: 0 steps release nothing") {
		t.Errorf("status %d, %q", status, out)
	}
	for _, bad := range [][]string{
		{"--noise", "1", "--steps", "10", "--delta", "1"},
		{"--noise", "1", "--steps", "10", "--delta", "1.5"},
		{"--noise", "1", "--steps", "10", "--delta", "0"},
		{"--noise", "1", "--steps", "10", "--delta", "-1e-5"},
		{"--noise", "1", "--steps", "10", "--delta", "NaN"},
		{"--noise", "1", "--steps", "-1"},
		{"--noise", "1", "--epochs", "-1"},
		{"--noise", "-1", "--steps", "10"},
		{"--noise", "+Inf", "--steps", "10"},
		{"--target-epsilon", "0", "--steps", "10"},
	} {
		status, _, stderr := runCLI(t, "", append([]string{"privacy", "--sample-rate", "0.01"}, bad...)...)
		if status != exitUsage || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%v: status %d, stderr %q; want a usage error", bad, status, stderr)
		}
	}
}

func TestDPBadInput(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"privacy without rate", []string{"privacy", "--noise", "1", "--steps", "10"}, "--sample-rate"},
		{"privacy noise and target", []string{"privacy", "--noise", "1", "--target-epsilon", "1", "--sample-rate", "0.01", "--steps", "10"}, "exactly one"},
		{"privacy unattainable", []string{"privacy", "--target-epsilon", "0.01", "--sample-rate", "0.01", "--steps", "1000"}, "unattainable"},
		{"dp without C", []string{"train", "textcnn", "--dp", "--noise", "1"}, "--max-grad-norm"},
		{"dp without noise", []string{"train", "textcnn", "--dp", "--max-grad-norm", "1"}, "--noise σ or --target-epsilon"},
		{"noise without dp", []string{"train", "textcnn", "--noise", "1"}, "only apply with --dp"},
		{"knn under dp", []string{"train", "recsys", "--algo", "knn", "--dp", "--max-grad-norm", "1", "--noise", "1"}, "--algo mf"},
		{"batchnorm under dp", []string{"train", "convnet", "--dp", "--max-grad-norm", "1", "--noise", "1"}, "--norm group"},
		{"delta 1/N", []string{"train", "textcnn", "--epochs", "1", "--dp", "--max-grad-norm", "1", "--noise", "1", "--delta", "0.01", "--out", filepath.Join(t.TempDir(), "r")}, "below 1/N"},
		{"target unattainable", []string{"train", "textcnn", "--epochs", "1", "--dp", "--max-grad-norm", "1", "--target-epsilon", "0.001", "--out", filepath.Join(t.TempDir(), "r")}, "unattainable"},
	} {
		status, _, errOut := runCLI(t, "", c.args...)
		if status == 0 || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
			t.Errorf("%s: status %d, stderr %q; want one line containing %q", c.name, status, errOut, c.want)
		}
	}
}

// A DP run of the TextCNN on the built-in sample records its privacy, and
// eval --json reports epsilon and delta.
func TestDPTrainingEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	out := filepath.Join(t.TempDir(), "run")
	status, stdout, errOut := runCLI(t, "", "train", "textcnn", "--epochs", "1", "--dp", "--max-grad-norm", "1", "--target-epsilon", "8", "--delta", "1e-4", "--out", out)
	if status != 0 {
		t.Fatalf("status %d: %s\n%s", status, errOut, stdout)
	}
	// The run tells its privacy: the family's DP defaults (batch,
	// optimizer, lr, class weights on the clipped gradients), the
	// architecture's (LayerNorm, no dropout), σ, C, q, the
	// steps, δ and the target at the start, ε on the epoch line and at
	// the end, and the plots it wrote.
	for _, want := range []string{
		"dp-sgd: batch 256, adam, lr 0.01: the text family's defaults for private training where none was given",
		"dp-sgd: class weights balanced on the clipped gradients: the text family's default for private training where none was given",
		"dp-sgd: norm layer, dropout 0: the textcnn architecture's defaults for private training where none was given",
		"; class weights on the clipped gradients ham=0.4559 spam=1)",
		"(the least for target ε 8 over 1 epochs), C 1, q 0.16 (expected batch 256 of 1600 examples), 7 steps, δ 0.0001; sampling and noise from ChaCha8 keyed by crypto/rand",
		"epoch 1/1 ", "  epsilon ", "privacy: ε ", "history plots: " + filepath.Join(out, "history.png"),
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the output lacks %q:\n%s", want, stdout)
		}
	}
	status, stdout, errOut = runCLI(t, "", "eval", "--checkpoint", out, "--json")
	if status != 0 {
		t.Fatalf("eval: status %d: %s", status, errOut)
	}
	var r struct {
		Epsilon  float64 `json:"epsilon"`
		Delta    float64 `json:"delta"`
		Accuracy float64 `json:"accuracy"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("%q: %v", stdout, err)
	}
	if !(r.Epsilon > 0 && r.Epsilon <= 8) || r.Delta != 1e-4 {
		t.Errorf("eval: epsilon %v, delta %v", r.Epsilon, r.Delta)
	}
	t.Logf("eval: %s", stdout)
}

// Matrix factorization trains under DP too (its global bias is a layer op
// with per-example gradients), and eval reports its epsilon.
func TestDPMatrixFactorization(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	out := filepath.Join(t.TempDir(), "mf")
	status, stdout, errOut := runCLI(t, "", "train", "recsys", "--algo", "mf", "--epochs", "2", "--factors", "8", "--dp", "--max-grad-norm", "1", "--noise", "1.5", "--out", out)
	if status != 0 {
		t.Fatalf("status %d: %s\n%s", status, errOut, stdout)
	}
	status, stdout, errOut = runCLI(t, "", "eval", "--checkpoint", out, "--json")
	if status != 0 {
		t.Fatalf("eval: status %d: %s", status, errOut)
	}
	var r struct {
		Epsilon, Delta, RMSE float64
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("%q: %v", stdout, err)
	}
	if !(r.Epsilon > 0) || r.Delta != 1e-5 || !(r.RMSE > 0) {
		t.Errorf("eval %s", stdout)
	}
}

// The GroupNorm ConvNet trains under DP on an image folder, resumes, and
// its evaluation and prediction work.
func TestDPConvnetEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "images")
	for i := 0; i < 30; i++ {
		write(t, filepath.Join(data, "left", fmt.Sprintf("%02d.png", i)), pngBytes(t, false, i, false))
		write(t, filepath.Join(data, "right", fmt.Sprintf("%02d.png", i)), pngBytes(t, true, i, false))
	}
	run := filepath.Join(dir, "run")
	args := []string{"train", "convnet", "--data", data, "--norm", "group", "--dp", "--max-grad-norm", "1", "--noise", "1", "--delta", "1e-3", "--epochs", "1", "--batch", "8", "--lr", "0.01",
		"--dropout", "0", "--schedule", "cosine", "--out", run}
	if status, out, stderr := runCLI(t, "", args...); status != 0 {
		t.Fatalf("train: %s\n%s", stderr, out)
	}
	if status, _, stderr := runCLI(t, "", "train", "convnet", "--resume", run, "--epochs", "2", "--dropout", "0.5"); status == 0 || !strings.Contains(stderr, "drop --norm and --dropout") {
		t.Fatalf("resume with --dropout: status %d, %q", status, stderr)
	}
	if status, out, stderr := runCLI(t, "", "train", "convnet", "--resume", run, "--epochs", "2"); status != 0 || !strings.Contains(out, "resuming") {
		t.Fatalf("resume: %s\n%s", stderr, out)
	}
	// The resumed run keeps the architecture and schedule it was started with.
	l, err := kinds.Open(run, checkpoint.PickLatest)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := train.ConfigOf(l.Checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	if c := l.Config.(*convnet.Config); c.Dropout != 0 || c.Norm != convnet.NormGroup || tc.Schedule.Name != "cosine" || tc.Epochs != 2 {
		t.Fatalf("resumed run: model %+v, schedule %q, epochs %d", *c, tc.Schedule.Name, tc.Epochs)
	}
	status, out, stderr := runCLI(t, "", "eval", "--checkpoint", run, "--json")
	if status != 0 {
		t.Fatalf("eval: %s", stderr)
	}
	var ev struct {
		Epsilon float64 `json:"epsilon"`
		Delta   float64 `json:"delta"`
		Privacy struct {
			Steps int `json:"steps"`
		} `json:"privacy"`
	}
	if err := json.Unmarshal([]byte(out), &ev); err != nil {
		t.Fatal(err)
	}
	if !(ev.Epsilon > 0) || ev.Delta != 1e-3 || ev.Privacy.Steps < 1 {
		t.Fatalf("eval: %s", out)
	}
	img := filepath.Join(dir, "probe.png")
	write(t, img, pngBytes(t, true, 3, false))
	if status, out, stderr := runCLI(t, "", "predict", "--checkpoint", run, img); status != 0 {
		t.Fatalf("predict: %s\n%s", stderr, out)
	}
}
