package export

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/safetensors"
)

// An int8 checkpoint exports its int8 tensors and scales as they are, with
// quantization.json in the metadata, and imports back into an int8 model.
func TestExportImportInt8(t *testing.T) {
	c, err := checkpoint.Load("../testdata/legacy/textcnn")
	if err != nil {
		t.Fatal(err)
	}
	var ts []safetensors.Tensor
	for _, x := range c.Weights {
		if x.Name != "conv.weight" {
			ts = append(ts, x)
			continue
		}
		w, _ := x.Float32s()
		q := graph.QuantizeRows(w, x.Shape)
		q.InputScale = 0.01
		ts = append(ts, checkpoint.QuantTensors(x.Name, q)...)
	}
	raw, _ := checkpoint.QuantizationJSON(&checkpoint.Quantization{Format: "int8", Tensors: map[string]string{"conv.weight": "conv"}})
	c.Weights, c.Extra = ts, map[string][]byte{checkpoint.QuantizationFile: raw}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := WriteFile(c, Safetensors, path); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if x, ok := safetensors.Lookup(f.Tensors, "conv.weight.int8"); !ok || x.Dtype != "I8" {
		t.Fatalf("conv.weight.int8: %v %v", ok, x.Dtype)
	}
	if f.Metadata[checkpoint.MetaQuantization] != string(raw) {
		t.Errorf("metadata %s = %q", checkpoint.MetaQuantization, f.Metadata[checkpoint.MetaQuantization])
	}
	back, err := kinds.Import(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := kinds.Decode(back)
	if err != nil {
		t.Fatal(err)
	}
	q := l.Params.Quantized("conv.weight")
	if q == nil || q.InputScale != 0.01 || !slices.Equal(q.Shape, []int{4, 4, 3}) {
		t.Fatalf("imported int8 conv.weight: %+v", q)
	}

	// ONNX with Dequantize: the float32 graph of the dequantized weights
	// (it read the int8 tensors as weights and refused them before).
	got, err := onnxBytes(l.Kind, l.Config, c, Options{Dequantize: true})
	if err != nil {
		t.Fatal(err)
	}
	dc, _, _, err := c.Dequantized()
	if err != nil {
		t.Fatal(err)
	}
	g, err := l.Config.(onnxGraph).ONNX(dc.Weights)
	if err != nil {
		t.Fatal(err)
	}
	if g.Metadata == nil {
		g.Metadata = map[string]string{}
	}
	for key, v := range checkpoint.Metadata(c) {
		g.Metadata[key] = v
	}
	g.Metadata[MetaONNXWeights] = "float32 (dequantized from int8)"
	want, err := g.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Error("the int8 checkpoint's ONNX graph is not the one of its dequantized weights")
	}
}
