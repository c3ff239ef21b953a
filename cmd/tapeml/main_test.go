package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the command line in-process.
func runCLI(t *testing.T, stdin string, args ...string) (status int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	status = run(args, env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb})
	return status, out.String(), errb.String()
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBadInputGivesOneLineError(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "nolabels", "a.txt"), []byte("just a file"))
	write(t, filepath.Join(dir, "nocol.csv"), []byte("body,label\nhello,spam\n"))
	write(t, filepath.Join(dir, "latin1", "pos", "a.txt"), []byte("caf\xe9 ok"))
	write(t, filepath.Join(dir, "latin1", "neg", "b.txt"), []byte("fine"))
	if err := os.MkdirAll(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string // in the error line
	}{
		{"missing data path", []string{"train", "textcnn", "--data", filepath.Join(dir, "nope")}, "nope"},
		{"empty data path", []string{"train", "textcnn", "--data", ""}, "--data is empty"},
		{"empty folder", []string{"train", "textcnn", "--data", filepath.Join(dir, "empty")}, "empty"},
		{"folder without label folders", []string{"train", "textcnn", "--data", filepath.Join(dir, "nolabels")}, "nolabels"},
		{"csv missing a column", []string{"train", "textcnn", "--data", filepath.Join(dir, "nocol.csv")}, `"text"`},
		{"non-UTF-8 file", []string{"train", "textcnn", "--data", filepath.Join(dir, "latin1")}, "UTF-8"},
		{"unknown model", []string{"train", "resnet"}, `unknown model "resnet"`},
		{"missing model", []string{"train"}, "missing model"},
		{"batch 0", []string{"train", "textcnn", "--batch", "0"}, "batch must be at least 1"},
		{"negative epochs", []string{"train", "textcnn", "--epochs", "-1"}, "epochs must be at least 1"},
		{"bad maxlen", []string{"train", "textcnn", "--maxlen", "0"}, "maxlen"},
		{"seed maxlen", []string{"train", "textcnn", "--arch", "seed", "--maxlen", "3"}, "maxlen"},
		{"bad arch", []string{"train", "textcnn", "--arch", "vgg"}, "vgg"},
		{"kim kernel", []string{"train", "textcnn", "--kernel", "3"}, "--widths"},
		{"bad optimizer", []string{"train", "textcnn", "--optimizer", "adagrad"}, "adagrad"},
		{"bad padding", []string{"train", "textcnn", "--padding", "middle"}, "--padding"},
		{"lstm batch 0", []string{"train", "lstm", "--batch", "0"}, "batch must be at least 1"},
		{"lstm bad hidden", []string{"train", "lstm", "--hidden", "0"}, "hidden"},
		{"lstm missing data", []string{"train", "lstm", "--data", filepath.Join(dir, "nope")}, "nope"},
		{"eval without checkpoint", []string{"eval"}, "--checkpoint is required"},
		{"eval of a missing checkpoint", []string{"eval", "--checkpoint", filepath.Join(dir, "nope")}, "nope"},
		{"predict of a non-checkpoint", []string{"predict", "--checkpoint", filepath.Join(dir, "nolabels"), "hi"}, "nolabels"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, _, stderr := runCLI(t, "", c.args...)
			if status == 0 {
				t.Fatalf("exit status 0, want failure")
			}
			if strings.Contains(stderr, "internal error") || strings.Contains(stderr, "goroutine") {
				t.Fatalf("panicked: %s", stderr)
			}
			if n := strings.Count(strings.TrimSpace(stderr), "\n"); n != 0 {
				t.Fatalf("error spans %d lines:\n%s", n+1, stderr)
			}
			if !strings.Contains(stderr, c.want) {
				t.Fatalf("error %q does not mention %q", stderr, c.want)
			}
		})
	}
}

func TestUnknownFlagAndCommand(t *testing.T) {
	if status, _, stderr := runCLI(t, "", "fly"); status != 2 || !strings.Contains(stderr, `unknown command "fly"`) {
		t.Fatalf("status %d, stderr %q", status, stderr)
	}
	if status, _, _ := runCLI(t, "", "train", "textcnn", "--no-such-flag"); status != 2 {
		t.Fatalf("status %d for an unknown flag", status)
	}
	for _, args := range [][]string{{"--help"}, {"train", "--help"}, {"train", "textcnn", "--help"}, {"eval", "--help"}, {"predict", "--help"}, {"models", "--help"}} {
		if status, stdout, stderr := runCLI(t, "", args...); status != 0 || !strings.Contains(stdout, "sage") || stderr != "" {
			t.Errorf("%v: status %d, stdout %q, stderr %q", args, status, stdout, stderr)
		}
	}
}

func TestModelsListsDefaults(t *testing.T) {
	status, out, _ := runCLI(t, "", "models", "--json")
	if status != 0 {
		t.Fatal(status)
	}
	seen := map[string]map[string]any{}
	presets := map[string]map[string]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m struct {
			Model   string                    `json:"model"`
			Config  map[string]any            `json:"config"`
			Presets map[string]map[string]any `json:"presets"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		seen[m.Model] = m.Config
		presets[m.Model] = m.Presets
	}
	if p := presets["textcnn"]; p["kim"]["arch"] != "kim" || p["seed"]["arch"] != "seed" || p["seed"]["kernel"] != 5.0 {
		t.Fatalf("textcnn presets: %v", p)
	}
	if seen["fasttext"] == nil {
		t.Fatalf("fasttext missing from %v", seen)
	}
	if c := seen["textcnn"]; c == nil || c["arch"] != "kim" || c["num_words"] != 20000.0 || c["maxlen"] != 200.0 {
		t.Fatalf("textcnn defaults: %v", seen["textcnn"])
	}
	if c := seen["convnet"]; c == nil || c["classes"] != 10.0 {
		t.Fatalf("convnet defaults: %v", seen["convnet"])
	}
	if seen["recsys"] == nil {
		t.Fatalf("recsys missing from %v", seen)
	}
}

// The README's first command (train fasttext on the built-in sample)
// reaches its accuracy on the test split and on short messages written for
// the test, answers a text without a known token with the training prior,
// and its checkpoint serves eval, predict and resume; damage to it is
// reported by file name.
func TestBuiltinTrainingEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for about 30 s")
	}
	runDir := filepath.Join(t.TempDir(), "run")
	status, out, stderr := runCLI(t, "", "train", "fasttext", "--out", runDir)
	if status != 0 {
		t.Fatalf("train failed: %s", stderr)
	}
	if !strings.Contains(out, "test (best epoch, n=200)") || !strings.Contains(out, "checkpoint: ") {
		t.Fatalf("train output lacks the test metrics or checkpoint:\n%s", out)
	}
	ev := runEval(t, runDir)
	t.Logf("built-in sample test: accuracy %.4f, f1 %.4f, loss %.4f, n %d", ev.Accuracy, ev.F1, ev.Loss, ev.N)
	if ev.N != 200 || ev.Accuracy < 0.95 {
		t.Fatalf("test accuracy %.4f on %d examples, want ≥ 0.95 on 200", ev.Accuracy, ev.N)
	}
	if acc := shortMessageAccuracy(t, runDir); acc < 0.85 {
		t.Errorf("short messages: accuracy %.3f, want ≥ 0.85", acc)
	}
	checkNoEvidence(t, runDir)

	status, out, stderr = runCLI(t, "Win a FREE prize now!!! Click here\nSee you at the meeting on Tuesday\n", "predict", "--checkpoint", runDir, "--json")
	if status != 0 {
		t.Fatalf("predict failed: %s", stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("predict gave %d lines for 2 texts:\n%s", len(lines), out)
	}
	var p struct {
		Prob   float64 `json:"prob"`
		Label  int     `json:"label"`
		Class  string  `json:"class"`
		Tokens []int   `json:"tokens"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Tokens) != 1000 || p.Prob < 0.5 || p.Prob > 1 || p.Class != "spam" {
		t.Fatalf("prediction %+v", p)
	}

	// One epoch more from the latest checkpoint.
	status, out, stderr = runCLI(t, "", "train", "fasttext", "--resume", runDir, "--epochs", "21")
	if status != 0 || !strings.Contains(out, "resuming") || !strings.Contains(out, "epoch 21/21") {
		t.Fatalf("resume: status %d\n%s\n%s", status, out, stderr)
	}

	// Out through safetensors, back in from its metadata, and fine-tuned.
	exported := filepath.Join(t.TempDir(), "spam.safetensors")
	imported := filepath.Join(t.TempDir(), "imported")
	if status, _, stderr := runCLI(t, "", "export", "--checkpoint", runDir, "--out", exported); status != 0 {
		t.Fatalf("export: %s", stderr)
	}
	if status, _, stderr := runCLI(t, "", "import", "--weights", exported, "--out", imported); status != 0 {
		t.Fatalf("import: %s", stderr)
	}
	status, out, stderr = runCLI(t, "", "train", "fasttext", "--init", imported, "--epochs", "1", "--out", filepath.Join(t.TempDir(), "tuned"))
	if status != 0 || !strings.Contains(out, "starting from the weights of") {
		t.Fatalf("train --init: status %d\n%s\n%s", status, out, stderr)
	}
	status, _, stderr = runCLI(t, "", "train", "fasttext", "--init", imported, "--maxlen", "50", "--padding", "post")
	if status == 0 || !strings.Contains(stderr, "drop --maxlen, --padding") {
		t.Fatalf("train --init with an architecture flag: status %d, %q", status, stderr)
	}

	// A corrupted weights file is named.
	best := filepath.Join(runDir, "best", "model.safetensors")
	b, err := os.ReadFile(best)
	if err != nil {
		t.Fatal(err)
	}
	write(t, best, b[:len(b)/2])
	status, _, stderr = runCLI(t, "", "eval", "--checkpoint", runDir)
	if status == 0 || !strings.Contains(stderr, "model.safetensors") {
		t.Fatalf("truncated weights: status %d, %q", status, stderr)
	}
}
