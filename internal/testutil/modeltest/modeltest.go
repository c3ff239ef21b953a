// Package modeltest holds checks the model packages' tests share.
package modeltest

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/internal/testutil/ortrun"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/onnx"
	"github.com/tapeml/tapeml/safetensors"
)

// CheckSpecs fails t unless specs — a configuration's ParamSpecs, known
// without building — are the names and shapes build creates
// (graph.ParamShapes; layer roles are the layers' business, not the
// configuration's). cfg names the configuration in the failure.
func CheckSpecs(t *testing.T, cfg any, specs []graph.ParamSpec, build graph.BuildFunc) {
	t.Helper()
	want, err := graph.ParamShapes(build)
	if err != nil {
		t.Fatalf("%+v: %v", cfg, err)
	}
	for i := range want {
		want[i].Role, want[i].Unit = graph.RoleNone, ""
	}
	if !reflect.DeepEqual(specs, want) {
		t.Errorf("%+v:\n got %v\nwant %v", cfg, specs, want)
	}
}

// ONNXConfig is a kind's configuration as CheckONNX needs it.
type ONNXConfig interface {
	Network() (kinds.Network, error)
	ONNX(weights []safetensors.Tensor) (*onnx.Model, error)
}

// TextONNX is a text kind's configuration as CheckTextONNX needs it.
type TextONNX = ONNXConfig

// CheckTextONNX builds a text model of cfg with random weights (seed),
// exports its ONNX graph and checks that ONNX Runtime gives the serving
// graph's logits and probabilities on the rows of ids (padded however the
// test likes, empty rows too), within tol. It skips without ONNX Runtime.
// mutate, if not nil, edits the weights first (a padding row made
// nonzero, say).
func CheckTextONNX(t *testing.T, cfg TextONNX, ids [][]int, seed uint64, tol float64, mutate func(*graph.Params)) {
	t.Helper()
	n, L := len(ids), len(ids[0])
	flat := make([]float32, 0, n*L)
	for _, row := range ids {
		for _, id := range row {
			flat = append(flat, float32(id))
		}
	}
	CheckONNX(t, cfg, seed, Input{Name: "ids", Dtype: "int64", Shape: []int{n, L}, Values: flat}, tol, mutate)
}

// Input is the one input of a model's serving graph and ONNX graph: the
// ONNX input's name and element type, and the values (token ids as
// float32 for int64) of the shape [batch, …].
type Input struct {
	Name, Dtype string
	Shape       []int
	Values      []float32
}

// CheckONNX is CheckTextONNX for any kind and input: the serving graph's
// logits and probabilities on in against ONNX Runtime's, within tol.
func CheckONNX(t *testing.T, cfg ONNXConfig, seed uint64, in Input, tol float64, mutate func(*graph.Params)) {
	t.Helper()
	net, err := cfg.Network()
	if err != nil {
		t.Fatal(err)
	}
	params := graph.NewParams(tensor.Float32, seed)
	prog := graph.NewProgram(net.Build, net.Loss, params, nil)
	if err := prog.Materialize(); err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(params)
	}
	n := in.Shape[0]
	arr := ortrun.Array{Dtype: in.Dtype, Shape: in.Shape}
	for _, v := range in.Values {
		arr.Data = append(arr.Data, float64(v))
	}
	m, err := prog.Machine(n, graph.Infer)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(tensor.WithShape(in.Shape...), tensor.WithBacking(slices.Clone(in.Values)))
	if err := m.Run([]*tensor.Dense{x}, nil); err != nil {
		t.Fatal(err)
	}
	logits := m.Output().Float32s()
	width := len(logits) / n
	probs := metrics.Probabilities(net.Task(), logits, width)
	want := map[string]ortrun.Array{
		"logits": {Dtype: "float32", Shape: []int{n, width}},
		"probs":  {Dtype: "float32", Shape: []int{n, width}},
	}
	for i := range logits {
		l, p := want["logits"], want["probs"]
		l.Data, p.Data = append(l.Data, float64(logits[i])), append(p.Data, float64(probs[i]))
		want["logits"], want["probs"] = l, p
	}
	model, err := cfg.ONNX(checkpoint.Weights(params))
	if err != nil {
		t.Fatal(err)
	}
	b, err := model.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.onnx")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ortrun.Check(t, path, map[string]ortrun.Array{in.Name: arr}, want, tol)
}
