package checkpoint

import (
	"strings"
	"testing"

	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/safetensors"
	G "gorgonia.org/gorgonia"
)

func TestCheckShapes(t *testing.T) {
	specs := []graph.ParamSpec{
		{Name: "embedding.weight", Shape: []int{2_000_000_000, 64}}, // what a hostile meta.json asks for
		{Name: "fc.bias", Shape: []int{1}},
		{Name: "bn.num_batches_tracked", Shape: []int{}, Counter: true},
	}
	ts := []safetensors.Tensor{
		safetensors.F32("embedding.weight", []int{10, 64}, make([]float32, 640)),
		safetensors.I64("bn.num_batches_tracked", []int{}, []int64{3}),
		safetensors.F32("extra", []int{1}, []float32{0}),
	}
	err := CheckShapes(specs, ts, "w.safetensors")
	want := `w.safetensors: weights do not fit the model: "embedding.weight" has shape [10 64], the model expects [2000000000 64]; missing "fc.bias" [1]; unexpected tensor "extra"`
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
	ts[0] = safetensors.F32("embedding.weight", []int{2_000_000_000, 64}, nil) // shape only
	ts[2] = safetensors.F32("fc.bias", []int{1}, []float32{0})
	if err := CheckShapes(specs, ts, "w"); err != nil {
		t.Fatal(err)
	}
	if err := CheckShapes(specs[1:], ts[1:], "w"); err != nil {
		t.Fatal(err)
	}
	if err := CheckShapes(specs[1:], ts, "w"); err == nil || !strings.Contains(err.Error(), `unexpected tensor "embedding.weight"`) {
		t.Fatal(err)
	}
}

func TestCheckBuild(t *testing.T) {
	// A parameter of 2^40 values: found from Build without allocating it.
	m := hugeModel{}
	if err := CheckBuild(m.Build, []safetensors.Tensor{safetensors.F32("w", []int{2}, []float32{1, 2})}, "f"); err == nil || !strings.Contains(err.Error(), `"w" has shape [2], the model expects [1099511627776]`) {
		t.Fatalf("got %v", err)
	}
}

type hugeModel struct{}

func (hugeModel) Build(b *graph.Builder, n int) (graph.Outputs, error) {
	x := b.Input("x", n, 1)
	b.Param("w", []int{1 << 40}, graph.Constant(0))
	return graph.Outputs{Inputs: []*G.Node{x}, Output: x}, nil
}
func (hugeModel) Loss(b *graph.Builder, out graph.Outputs) (graph.Objective, error) {
	return graph.BinaryLoss(b, out)
}
func (hugeModel) Task() metrics.Task { return metrics.Binary }
