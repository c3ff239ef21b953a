package onnx

import (
	"bytes"
	"testing"
)

// TestEncodersAgree: the protowire encoder (appendTo) writes the bytes the
// hand-written one (Marshal) does, for the golden model of every field the
// subset has and for every model graph, while both exist.
func TestEncodersAgree(t *testing.T) {
	models := goldenModels(t)
	models["python golden"] = goldenModel()
	edge := goldenModel() // fields the golden leaves at their defaults
	edge.Graph.Initializers = append(edge.Graph.Initializers, Tensor{Name: "empty", DataType: Float, Dims: []int64{0}, RawData: []byte{}, DocString: "d"})
	edge.Graph.Nodes[0].Attributes = append(edge.Graph.Nodes[0].Attributes, Attribute{Name: "untyped", Ints: []int64{-1 << 40}, DocString: "d"},
		Attribute{Name: "nil t", Type: AttrTensor}, Attribute{Type: AttrFloat})
	edge.Graph.Inputs[0].DocString = "d"
	edge.Graph.Nodes = append(edge.Graph.Nodes, Node{OpType: "Identity"})
	models["edge cases"] = edge
	for name, m := range models {
		old, err := m.Marshal()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := m.appendTo(nil); !bytes.Equal(got, old) {
			i := 0
			for i < len(got) && i < len(old) && got[i] == old[i] {
				i++
			}
			t.Errorf("%s: the protowire encoder wrote %d bytes, the old one %d; first difference at byte %d", name, len(got), len(old), i)
		}
	}
}
