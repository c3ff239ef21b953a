package main

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/samples"
	"github.com/tapeml/tapeml/textdata"
)

// python is Debian's interpreter, the one python3-torch is installed for.
const python = "/usr/bin/python3"

// requireTorch skips the test when python cannot import torch.
func requireTorch(t *testing.T) {
	t.Helper()
	if out, err := exec.Command(python, "-c", "import torch").CombinedOutput(); err != nil {
		t.Skipf("%s cannot import torch (apt-get install python3-torch): %v %s", python, err, strings.TrimSpace(string(out)))
	}
}

// TestDDPRoundTrip is the hand-off for the neural models: tapeml trains a
// TextCNN for an epoch on the built-in sample and exports it;
// tools/pytorch/ddp_finetune.py fine-tunes it with DistributedDataParallel
// on two gloo processes over 127.0.0.1 and predicts a probe set; tapeml
// imports the result and must give PyTorch's logits for the same inputs.
//
//	go test -run DDPRoundTrip -v ./cmd/tapeml
func TestDDPRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a TextCNN and starts three Python processes (about 30 s)")
	}
	requireTorch(t)
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	if status, _, stderr := runCLI(t, "", "train", "textcnn", "--epochs", "1", "--out", run); status != 0 {
		t.Fatalf("train: %s", stderr)
	}
	exported := filepath.Join(dir, "spam.safetensors")
	if status, _, stderr := runCLI(t, "", "export", "--checkpoint", run, "--out", exported); status != 0 {
		t.Fatalf("export: %s", stderr)
	}

	// The examples as the model sees them: token ids from tapeml's own
	// preprocessing, and the labels.
	m, err := tapeml.Load(run)
	if err != nil {
		t.Fatal(err)
	}
	corpus, err := samples.SpamAssassin(textdata.TextOptions{})
	if err != nil {
		t.Fatal(err)
	}
	maxlen := m.Inputs()[0].Shape[0]
	encode := func(texts []string) []int64 {
		ids, err := m.EncodeTexts(texts)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]int64, len(ids))
		for i, v := range ids {
			out[i] = int64(v)
		}
		return out
	}
	var texts []string
	var labels []float32
	for _, ex := range corpus.Train {
		texts = append(texts, ex.Text)
		labels = append(labels, float32(ex.Label))
	}
	data := filepath.Join(dir, "train.safetensors")
	if err := safetensors.WriteFile(data, []safetensors.Tensor{
		safetensors.I64("inputs", []int{len(texts), maxlen}, encode(texts)),
		safetensors.F32("targets", []int{len(labels)}, labels),
	}, nil); err != nil {
		t.Fatal(err)
	}
	var probeTexts []string
	for _, ex := range corpus.Test {
		probeTexts = append(probeTexts, ex.Text)
	}
	probeIDs := encode(probeTexts)
	probe := filepath.Join(dir, "probe.safetensors")
	if err := safetensors.WriteFile(probe, []safetensors.Tensor{
		safetensors.I64("inputs", []int{len(probeTexts), maxlen}, probeIDs),
	}, nil); err != nil {
		t.Fatal(err)
	}

	tuned := filepath.Join(dir, "tuned.safetensors")
	torchLogits := filepath.Join(dir, "torch_logits.safetensors")
	_, self, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(self), "..", "..", "tools", "pytorch", "ddp_finetune.py")
	cmd := exec.Command(python, script, "--weights", exported, "--data", data, "--out", tuned,
		"--probe", probe, "--probe-out", torchLogits, "--world-size", "2", "--epochs", "1", "--lr", "0.001")
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1")
	out, err := cmd.CombinedOutput()
	t.Logf("ddp_finetune.py:\n%s", out)
	if err != nil {
		t.Fatalf("ddp_finetune.py: %v", err)
	}

	imported := filepath.Join(dir, "imported")
	if status, _, stderr := runCLI(t, "", "import", "--weights", tuned, "--out", imported); status != 0 {
		t.Fatalf("import: %s", stderr)
	}
	back, err := tapeml.Load(imported)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, len(probeIDs))
	for i, v := range probeIDs {
		x[i] = float32(v)
	}
	got, err := back.Forward(context.Background(), [][]float32{x}, len(probeTexts))
	if err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.ReadFile(torchLogits)
	if err != nil {
		t.Fatal(err)
	}
	lt, _ := f.Lookup("logits")
	want, err := lt.Float32s()
	if err != nil || len(want) != len(got) {
		t.Fatalf("torch logits: %v, %d values for %d", err, len(want), len(got))
	}
	before, err := m.Forward(context.Background(), [][]float32{x}, len(probeTexts))
	if err != nil {
		t.Fatal(err)
	}
	var worst, moved float64
	for i := range got {
		worst = max(worst, math.Abs(float64(got[i]-want[i])))
		moved = max(moved, math.Abs(float64(before[i]-want[i])))
	}
	t.Logf("%d probe texts: largest |tapeml − PyTorch| logit difference %.3g; fine-tuning moved the logits by up to %.3g", len(got), worst, moved)
	if worst > 1e-4 {
		t.Errorf("imported weights give logits up to %.3g away from PyTorch's", worst)
	}
	if moved < 1e-3 {
		t.Errorf("the fine-tuned logits are within %.3g of the exported model's: did training run?", moved)
	}
}
