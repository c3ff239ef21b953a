// Package ortrun runs an ONNX model in ONNX Runtime (npm's
// onnxruntime-node, through tools/onnx/run.mjs) from a Go test and
// compares its outputs with tapeml's. Tests skip when Node.js or the
// package is missing (`npm ci --ignore-scripts` in tools/onnx installs it;
// CI does).
package ortrun

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Array is one tensor of the IO file run.mjs reads: row-major data.
type Array struct {
	Dtype string    `json:"dtype"` // float32, float64, int32, int64 or bool
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

// toolsDir is tools/onnx, found from this file's place in the module.
func toolsDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "tools", "onnx")
}

// Check runs model (an .onnx file) on inputs in ONNX Runtime and fails t
// unless every output in want agrees within tol. It skips t when ONNX
// Runtime is not installed.
func Check(t testing.TB, model string, inputs, want map[string]Array, tol float64) {
	t.Helper()
	dir := toolsDir()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: ONNX Runtime cannot run")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "onnxruntime-node")); err != nil {
		t.Skipf("onnxruntime-node is not installed (cd %s && npm ci --ignore-scripts)", dir)
	}
	io, err := json.Marshal(map[string]any{"inputs": inputs, "outputs": want})
	if err != nil {
		t.Fatal(err)
	}
	ioPath := filepath.Join(t.TempDir(), "io.json")
	if err := os.WriteFile(ioPath, io, 0o644); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(model)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "run.mjs", abs, ioPath, "--tol="+jsonNumber(tol))
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	t.Logf("onnxruntime-node: %s", out)
	if err != nil {
		t.Fatalf("ONNX Runtime disagrees or failed: %v", err)
	}
}

func jsonNumber(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// Available reports why ONNX Runtime cannot run here (Node.js or
// onnxruntime-node missing), or nil.
func Available() error {
	if _, err := exec.LookPath("node"); err != nil {
		return fmt.Errorf("node is not installed: ONNX Runtime cannot run")
	}
	dir := toolsDir()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "onnxruntime-node")); err != nil {
		return fmt.Errorf("onnxruntime-node is not installed (cd %s && npm ci --ignore-scripts)", dir)
	}
	return nil
}

// InferOptions are Infer's settings.
type InferOptions struct {
	Batch     int    // run the examples in batches of at most Batch (0: all at once)
	Threads   int    // ONNX Runtime's intra-op threads (0: its default)
	Optimized string // write the graph ONNX Runtime runs after its optimizations here
}

// Infer runs model (an .onnx file) in ONNX Runtime on inputs, whose first
// axis is the examples, and returns every output (tools/onnx/infer.mjs).
func Infer(model string, inputs map[string]Array, opt InferOptions) (map[string]Array, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "ortrun")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	in, out := filepath.Join(tmp, "in.json"), filepath.Join(tmp, "out.json")
	raw, err := json.Marshal(inputs)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(in, raw, 0o644); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(model)
	if err != nil {
		return nil, err
	}
	args := []string{"infer.mjs", abs, in, out, fmt.Sprintf("--batch=%d", opt.Batch), fmt.Sprintf("--threads=%d", opt.Threads)}
	if opt.Optimized != "" {
		o, err := filepath.Abs(opt.Optimized)
		if err != nil {
			return nil, err
		}
		args = append(args, "--optimized="+o)
	}
	cmd := exec.Command("node", args...)
	cmd.Dir = toolsDir()
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("onnxruntime-node: %v: %s", err, msg)
	}
	raw, err = os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	var res map[string]Array
	if err := json.Unmarshal(raw, &res); err != nil {
		return nil, fmt.Errorf("%s: %w", out, err)
	}
	return res, nil
}
