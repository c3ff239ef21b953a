package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Export a trained checkpoint, import it back, and use the import for
// evaluation, prediction and fine-tuning; then the bad inputs.
func TestExportImportEndToEnd(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "images")
	for i := 0; i < 20; i++ {
		write(t, filepath.Join(data, "left", fmt.Sprintf("%02d.png", i)), pngBytes(t, false, i, false))
		write(t, filepath.Join(data, "right", fmt.Sprintf("%02d.png", i)), pngBytes(t, true, i, false))
	}
	run := filepath.Join(dir, "run")
	if status, out, stderr := runCLI(t, "", "train", "convnet", "--data", data, "--epochs", "1", "--batch", "8", "--out", run); status != 0 {
		t.Fatalf("train: %s\n%s", stderr, out)
	}
	st := filepath.Join(dir, "convnet.safetensors")
	status, out, stderr := runCLI(t, "", "export", "--checkpoint", run, "--out", st)
	if status != 0 || !strings.Contains(out, "exported convnet (safetensors)") {
		t.Fatalf("export: status %d\n%s\n%s", status, out, stderr)
	}
	onnxFile := filepath.Join(dir, "convnet.onnx")
	if status, out, stderr := runCLI(t, "", "export", "--checkpoint", run, "--format", "onnx", "--out", onnxFile); status != 0 {
		t.Fatalf("export onnx: status %d\n%s\n%s", status, out, stderr)
	}
	imported := filepath.Join(dir, "imported")
	if status, out, stderr := runCLI(t, "", "import", "--weights", st, "--out", imported); status != 0 {
		t.Fatalf("import: status %d\n%s\n%s", status, out, stderr)
	}
	img := filepath.Join(dir, "probe.png")
	write(t, img, pngBytes(t, true, 3, false))
	for _, args := range [][]string{{"eval", "--json"}, {"predict", "--json", img}} {
		_, want, _ := runCLI(t, "", append([]string{args[0], "--checkpoint", run}, args[1:]...)...)
		status, got, stderr := runCLI(t, "", append([]string{args[0], "--checkpoint", imported}, args[1:]...)...)
		// The eval JSON names its checkpoint; everything else must agree.
		want, got = withoutCheckpoint(t, want), withoutCheckpoint(t, got)
		if status != 0 || got != want {
			t.Fatalf("%s on the import: status %d %s\n got %s\nwant %s", args[0], status, stderr, got, want)
		}
	}
	status, out, stderr = runCLI(t, "", "train", "convnet", "--data", data, "--epochs", "1", "--batch", "8", "--init", imported, "--out", filepath.Join(dir, "tuned"))
	if status != 0 || !strings.Contains(out, "starting from the weights of "+imported) {
		t.Fatalf("train --init: status %d\n%s\n%s", status, out, stderr)
	}

	before, _ := os.ReadDir(dir)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"export", "--checkpoint", run, "--format", "safetensor", "--out", filepath.Join(dir, "x")}, []string{`"safetensor"`, "safetensors, onnx or hf"}},
		{[]string{"export", "--checkpoint", run, "--out", filepath.Join(dir, "no", "dir", "x.onnx")}, []string{filepath.Join(dir, "no", "dir")}},
		{[]string{"export", "--checkpoint", run}, []string{"--out is required"}},
		{[]string{"export", "--checkpoint", filepath.Join(dir, "nothing"), "--out", filepath.Join(dir, "x")}, []string{"nothing"}},
		{[]string{"import", "--weights", onnxFile, "--out", filepath.Join(dir, "y")}, []string{onnxFile}},
		{[]string{"import", "--weights", st, "--like", filepath.Join(dir, "nothing"), "--out", filepath.Join(dir, "y")}, []string{"--like", "nothing"}},
		{[]string{"train", "convnet", "--data", data, "--init", run, "--resume", run}, []string{"--init and --resume"}},
	} {
		status, _, stderr := runCLI(t, "", tc.args...)
		if status == 0 || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%v: status %d, stderr %q: want one error line", tc.args, status, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: %q does not mention %q", tc.args, stderr, w)
			}
		}
	}
	after, _ := os.ReadDir(dir)
	if len(after) != len(before) {
		t.Errorf("failed commands left files behind: %d entries before, %d after", len(before), len(after))
	}
}

// withoutCheckpoint is a JSON line without its "checkpoint" field, written
// again (keys in order); other output is returned as it is.
func withoutCheckpoint(t *testing.T, line string) string {
	t.Helper()
	var obj map[string]any
	if json.Unmarshal([]byte(line), &obj) != nil {
		return line
	}
	delete(obj, "checkpoint")
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestImportHF imports the Hugging Face fixture folder and predicts with
// it; --hf with --weights is a usage error.
func TestImportHF(t *testing.T) {
	out := filepath.Join(t.TempDir(), "bert")
	fixture := filepath.Join("..", "..", "models", "transformer", "testdata", "hf-bert")
	if status, _, stderr := runCLI(t, "", "import", "--hf", fixture, "--out", out); status != 0 {
		t.Fatalf("import --hf: %d %s", status, stderr)
	}
	status, stdout, stderr := runCLI(t, "", "predict", "--checkpoint", out, "free money", "下雨 天气")
	if status != 0 || strings.Count(stdout, "\n") != 2 || !strings.Contains(stdout, "weather") {
		t.Fatalf("predict: %d %q %s", status, stdout, stderr)
	}
	if status, _, stderr := runCLI(t, "", "import", "--hf", fixture, "--weights", "x.safetensors", "--out", out+"2"); status != 2 {
		t.Errorf("--hf with --weights: exit %d %s, want 2", status, stderr)
	}

	// Exported back as a Hugging Face folder, which imports again and
	// predicts the same; an existing export is replaced only with --force.
	hf := filepath.Join(t.TempDir(), "hf")
	if status, out, stderr := runCLI(t, "", "export", "--checkpoint", out, "--format", "hf", "--out", hf); status != 0 || !strings.Contains(out, "exported transformer (hf)") {
		t.Fatalf("export --format hf: %d %s %s", status, out, stderr)
	}
	if status, _, stderr := runCLI(t, "", "export", "--checkpoint", out, "--format", "hf", "--out", hf); status == 0 || !strings.Contains(stderr, "--force") {
		t.Errorf("export onto an earlier export without --force: exit %d %s", status, stderr)
	}
	if status, _, stderr := runCLI(t, "", "export", "--checkpoint", out, "--format", "hf", "--out", hf, "--force"); status != 0 {
		t.Errorf("export --force onto an earlier export: exit %d %s", status, stderr)
	}
	again := filepath.Join(t.TempDir(), "again")
	if status, _, stderr := runCLI(t, "", "import", "--hf", hf, "--out", again); status != 0 {
		t.Fatalf("import --hf of the export: %d %s", status, stderr)
	}
	if status, got, stderr := runCLI(t, "", "predict", "--checkpoint", again, "free money", "下雨 天气"); status != 0 || got != stdout {
		t.Errorf("predict on the re-import: %d %q %s, want %q", status, got, stderr, stdout)
	}

	// Fine-tuned on two classes: a fresh head, said in one line.
	data := filepath.Join(t.TempDir(), "two.csv")
	var rows strings.Builder
	rows.WriteString("text,label\n")
	for i := range 80 {
		rows.WriteString([]string{"free money now,spam\n", "see you at the meeting,ham\n", "win cash prize,spam\n", "monday meeting,ham\n"}[i%4])
	}
	write(t, data, []byte(rows.String()))
	status, tuned, stderr := runCLI(t, "", "train", "transformer", "--init", out, "--data", data, "--epochs", "2", "--out", filepath.Join(t.TempDir(), "tuned"))
	if status != 0 || !strings.Contains(tuned, "freshly initialized classifier.weight [1 32], classifier.bias [1]") {
		t.Errorf("train --init on two classes: %d\n%s\n%s", status, tuned, stderr)
	}
}
