package lstm

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/internal/testutil/ortrun"
	"github.com/tapeml/tapeml/safetensors"
)

// TestQDQInONNXRuntime: a small BiLSTM with every weight matrix in int8
// exports with ONNX Runtime's DynamicQuantizeLSTM (gates reordered, W and
// R transposed to [D, in, 4H], scales per column), whose outputs follow
// tapeml's int8 serving graph: they differ only by the rounding of the
// activations' quantization (per row in tapeml, per tensor in ONNX
// Runtime).
func TestQDQInONNXRuntime(t *testing.T) {
	if err := ortrun.Available(); err != nil {
		t.Skip(err)
	}
	cfg := Config{NumWords: 30, EmbedDim: 8, Hidden: 6, Layers: 2, Bidirectional: true, MaxLen: 8}
	cfg.Classes = 3
	net, err := cfg.Network()
	if err != nil {
		t.Fatal(err)
	}
	params := graph.NewParams(tensor.Float32, 5)
	prog := graph.NewProgram(net.Build, net.Loss, params, nil)
	if err := prog.Materialize(); err != nil {
		t.Fatal(err)
	}
	var weights []safetensors.Tensor
	for _, p := range params.List() {
		v := p.Value.Float32s()
		if p.Role == graph.RoleNone {
			weights = append(weights, safetensors.F32(p.Name, p.Shape(), v))
			continue
		}
		if p.Role == graph.RoleLSTM { // gate blocks of different scales, so that a scale on the wrong gate shows
			cols := len(v) / p.Shape()[0]
			for r := range p.Shape()[0] {
				for c := range cols {
					v[r*cols+c] *= float32(1 + 3*(r/cfg.Hidden))
				}
			}
		}
		q := graph.QuantizeRows(v, p.Shape())
		q.Dequantize(v) // the float32 parameter holds the dequantized weight, as kinds.Decode sets it
		params.SetQuantized(p.Name, q)
		weights = append(weights, checkpoint.QuantTensors(p.Name, q)...)
	}
	ids := [][]float32{{0, 0, 0, 5, 9, 2, 17, 3}, {5, 9, 2, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0}, {1, 2, 3, 4, 5, 6, 7, 8}, {29, 28, 0, 27, 0, 26, 25, 1}}
	n, L := len(ids), cfg.MaxLen
	in := ortrun.Array{Dtype: "int64", Shape: []int{n, L}}
	var flat []float32
	for _, row := range ids {
		flat = append(flat, row...)
		for _, id := range row {
			in.Data = append(in.Data, float64(id))
		}
	}
	m, err := prog.Machine(n, graph.Infer)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Run([]*tensor.Dense{tensor.New(tensor.WithShape(n, L), tensor.WithBacking(flat))}, nil); err != nil {
		t.Fatal(err)
	}
	mine := m.Output().Float32s()
	model, err := cfg.ONNX(weights)
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]int{}
	for _, nd := range model.Graph.Nodes {
		ops[nd.Domain+"."+nd.OpType]++
	}
	if ops["com.microsoft.DynamicQuantizeLSTM"] != 2 || ops[".LSTM"] != 0 || ops[".MatMulInteger"] != 1 {
		t.Errorf("ops %v: want 2 DynamicQuantizeLSTM, no LSTM, the dense layer's MatMulInteger", ops)
	}
	b, err := model.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.onnx")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := ortrun.Infer(path, map[string]ortrun.Array{"ids": in}, ortrun.InferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	theirs := res["logits"].Data
	if len(theirs) != len(mine) {
		t.Fatalf("%d logits, tapeml %d", len(theirs), len(mine))
	}
	maxDiff, lo, hi := 0.0, math.Inf(1), math.Inf(-1)
	for i := range mine {
		maxDiff = max(maxDiff, math.Abs(float64(mine[i])-theirs[i]))
		lo, hi = min(lo, float64(mine[i])), max(hi, float64(mine[i]))
	}
	t.Logf("max |Δlogit| %.4g; tapeml's logits span %.4g", maxDiff, hi-lo)
	if maxDiff > 0.05*(hi-lo) {
		t.Errorf("max |Δlogit| %.4g over a span of %.4g", maxDiff, hi-lo)
	}
}
