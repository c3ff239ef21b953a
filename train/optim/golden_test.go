package optim

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// The goldens come from PyTorch: -update reruns the generating script with
// $PYTHON (default python3), which must import torch 1.13.
var update = flag.Bool("update", false, "rewrite golden files (runs tools/pytorch/optim_golden.py)")

var regenerate sync.Once

// readGolden decodes testdata/name into v, regenerating it first with -update.
func readGolden(t *testing.T, name string, v any) {
	t.Helper()
	if *update {
		regenerate.Do(func() {
			python := os.Getenv("PYTHON")
			if python == "" {
				python = "python3"
			}
			cmd := exec.Command(python, filepath.Join("..", "..", "tools", "pytorch", "optim_golden.py"), "testdata")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("regenerating goldens with %s: %v\n%s", python, err, out)
			}
		})
	}
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("testdata/%s: %v", name, err)
	}
}

// relTol is the agreement required with PyTorch, as a norm-wise relative
// error: the largest difference in a tensor divided by the tensor's largest
// magnitude. An element that cancels to almost zero is thus judged by the
// scale it was computed at; PyTorch's float32 reduction in clip_grad_norm_
// differs from ours (float64) in the last bit, and cancellation would
// otherwise magnify that into a large element-wise error.
const relTol = 1e-6

// tensorErr is max|got−want| / max|want|.
func tensorErr(got, want []float32) float64 {
	var diff, scale float64
	for i := range want {
		diff = max(diff, math.Abs(float64(got[i])-float64(want[i])))
		scale = max(scale, math.Abs(float64(want[i])))
	}
	if diff == 0 {
		return 0
	}
	return diff / scale
}

type optimGolden struct {
	Torch string `json:"torch"`
	Cases []struct {
		Name   string               `json:"name"`
		Config Config               `json:"config"`
		Init   map[string][]float32 `json:"init"`
		Shapes map[string][]int     `json:"shapes"`
		Steps  []struct {
			LR       float64              `json:"lr"`
			Grads    map[string][]float32 `json:"grads"`
			GradNorm float64              `json:"grad_norm"`
			Params   map[string][]float32 `json:"params"`
		} `json:"steps"`
		State map[string][]float32 `json:"state"`
	} `json:"cases"`
}

// goldenParams returns the parameters of a golden case in state_dict order.
func goldenParams(init map[string][]float32, shapes map[string][]int) []Param {
	var ps []Param
	for _, name := range []string{"fc.weight", "fc.bias"} {
		ps = append(ps, Param{
			Name:  name,
			Shape: shapes[name],
			Value: append([]float32(nil), init[name]...),
			Grad:  make([]float32, len(init[name])),
		})
	}
	return ps
}

func TestAgainstPyTorch(t *testing.T) {
	var g optimGolden
	readGolden(t, "optim_golden.json", &g)
	if len(g.Cases) == 0 {
		t.Fatal("no cases in golden file")
	}
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			opt, err := New(c.Config)
			if err != nil {
				t.Fatal(err)
			}
			params := goldenParams(c.Init, c.Shapes)
			worst := 0.0
			check := func(what string, got, want []float32) {
				t.Helper()
				if len(got) != len(want) {
					t.Errorf("%s has %d values, PyTorch %d", what, len(got), len(want))
					return
				}
				e := tensorErr(got, want)
				worst = max(worst, e)
				if !(e <= relTol) {
					t.Errorf("%s = %v, PyTorch %v (relative error %.2g)", what, got, want, e)
				}
			}
			for s, step := range c.Steps {
				for i := range params {
					copy(params[i].Grad, step.Grads[params[i].Name])
				}
				if err := opt.Step(params, step.LR); err != nil {
					t.Fatalf("step %d: %v", s+1, err)
				}
				if e := math.Abs(opt.GradNorm()-step.GradNorm) / step.GradNorm; !(e <= relTol) {
					t.Errorf("grad norm = %.9g, PyTorch %.9g (relative error %.2g)", opt.GradNorm(), step.GradNorm, e)
				}
				for _, p := range params {
					check(p.Name, p.Value, step.Params[p.Name])
				}
				if t.Failed() {
					t.Fatalf("step %d differs from PyTorch %s", s+1, g.Torch)
				}
			}
			st := opt.State()
			if st.Step != int64(len(c.Steps)) {
				t.Errorf("State().Step = %d, want %d", st.Step, len(c.Steps))
			}
			if len(st.Slots) != len(c.State) {
				t.Errorf("state has slots %v, PyTorch has %d", keys(st.Slots), len(c.State))
			}
			for key, want := range c.State {
				got, ok := st.Slots[key]
				if !ok {
					t.Errorf("state lacks PyTorch's slot %q (have %v)", key, keys(st.Slots))
					continue
				}
				check(key, got, want)
			}
			t.Logf("worst relative error %.2g", worst)
		})
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
