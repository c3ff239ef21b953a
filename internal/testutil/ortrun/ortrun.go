// Package ortrun runs an ONNX model in ONNX Runtime (npm's
// onnxruntime-node, through tools/onnx/run.mjs) from a Go test and
// compares its outputs with tapeml's. Tests skip when Node.js or the
// package is missing (`npm ci --ignore-scripts` in tools/onnx installs it;
// CI does).
package ortrun

import (
	"encoding/json"
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
