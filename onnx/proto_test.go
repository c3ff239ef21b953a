package onnx

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"strings"
	"testing"
)

// goldenModel is testdata/python.onnx (written by tools/onnx/golden.py with
// onnx.helper) as a Go literal.
func goldenModel() *Model {
	raw := make([]byte, 24)
	for i := range 6 {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(float32(i)))
	}
	return &Model{
		IRVersion:       7,
		OpsetImports:    []OpsetID{{Domain: "", Version: 13}, {Domain: "ai.tapeml", Version: 1}},
		ProducerName:    "tapeml",
		ProducerVersion: "0.1",
		Domain:          "ai.tapeml",
		ModelVersion:    3,
		DocString:       "golden model",
		Metadata:        map[string]string{"a": "1", "tapeml.kind": "golden"},
		Graph: Graph{
			Name:      "golden",
			DocString: "wire-format golden",
			Nodes: []Node{
				{Inputs: []string{"x", "w", ""}, Outputs: []string{"y"}, Name: "gemm", OpType: "Gemm",
					Attributes: []Attribute{{Name: "alpha", Type: AttrFloat, F: 0.5}, {Name: "transB", Type: AttrInt, I: 1}}},
				{Inputs: []string{"y", "k"}, Outputs: []string{"z", ""}, Name: "custom", OpType: "Custom",
					Domain: "ai.tapeml", DocString: "a custom op",
					Attributes: []Attribute{
						{Name: "floats", Type: AttrFloats, Floats: []float32{0.5, -1}},
						{Name: "ints", Type: AttrInts, Ints: []int64{1, -1, 0}},
						{Name: "mode", Type: AttrString, S: []byte("max")},
						{Name: "strings", Type: AttrStrings, Strings: [][]byte{[]byte("a"), []byte("bc")}},
						{Name: "t", Type: AttrTensor, T: &Tensor{Name: "t", DataType: Float, Dims: []int64{1}, FloatData: []float32{0.25}}},
						{Name: "zero", Type: AttrInt, I: 0},
					}},
			},
			Initializers: []Tensor{
				{Name: "w", DataType: Float, Dims: []int64{2, 3}, RawData: raw},
				{Name: "fd", DataType: Float, Dims: []int64{2}, FloatData: []float32{1.5, -2.25}},
				{Name: "k", DataType: Int64, Dims: []int64{3}, Int64Data: []int64{1, -2, 300}},
				{Name: "i32", DataType: Int32, Dims: []int64{2}, Int32Data: []int32{-7, 9}},
				{Name: "s", DataType: Int64, RawData: []byte{5, 0, 0, 0, 0, 0, 0, 0}},
			},
			Inputs: []ValueInfo{
				{Name: "x", ElemType: Float, Shape: []Dim{{Param: "batch"}, {Value: 3}}},
				{Name: "n", ElemType: Int64},
			},
			Outputs: []ValueInfo{
				{Name: "z", ElemType: Float, Shape: []Dim{{Param: "batch"}, {Value: -1}, {Value: 7}}},
				{Name: "c", ElemType: Int32, Shape: []Dim{}},
			},
			ValueInfo: []ValueInfo{{Name: "y", ElemType: Float, Shape: []Dim{{Param: "batch"}, {Value: 2}}}},
		},
	}
}

func readGolden(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/python.onnx")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPythonGolden checks the encoder against the reference protobuf
// implementation: it writes the bytes onnx.helper wrote for the same model.
// (roundtrip_test.go checks that it decodes back to goldenModel.)
func TestPythonGolden(t *testing.T) {
	want := readGolden(t)
	b, err := goldenModel().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		i := 0
		for i < len(b) && i < len(want) && b[i] == want[i] {
			i++
		}
		t.Errorf("Marshal wrote %d bytes, the reference %d; first difference at byte %d", len(b), len(want), i)
	}
}

func TestMarshalRejects(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(m *Model)
		want  string
	}{
		{"raw_data too short", func(m *Model) { m.Graph.Initializers[0].RawData = m.Graph.Initializers[0].RawData[:20] },
			`initializer "w": float × dims [2 3] is 24 bytes, raw_data has 20`},
		{"unnamed initializer", func(m *Model) { m.Graph.Initializers[1].Name = "" }, "initializer 1 has no name"},
		{"negative dim", func(m *Model) { m.Graph.Initializers[0].Dims = []int64{-2, 3} }, "negative dimension"},
		{"unnamed output", func(m *Model) { m.Graph.Outputs[0].Name = "" }, "input or output 0 has no name"},
		{"empty metadata key", func(m *Model) { m.Metadata[""] = "x" }, "empty key"},
	}
	for _, tc := range tests {
		m := goldenModel()
		tc.spoil(m)
		if _, err := m.Marshal(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

// TestMarshalRejectsOver2GiB: a model whose weights a protobuf message
// cannot hold is refused: first with the limit lowered below the golden's
// 24-byte tensor, then with 8 GiB of dims and no data, so that nothing
// large is allocated.
func TestMarshalRejectsOver2GiB(t *testing.T) {
	defer func(limit int64) { maxInitializerBytes = limit }(maxInitializerBytes)
	m := goldenModel()
	if _, err := m.Marshal(); err != nil {
		t.Fatal(err)
	}
	maxInitializerBytes = 23
	if _, err := m.Marshal(); err == nil || !strings.Contains(err.Error(), "over protobuf's limit of 2 GiB") {
		t.Errorf("error %v, want the 2 GiB limit", err)
	}
	maxInitializerBytes = 1<<31 - 1
	m.Graph.Initializers[0].RawData = nil // dims alone: 2^31 floats, 8 GiB
	m.Graph.Initializers[0].Dims = []int64{1 << 16, 1 << 15}
	if _, err := m.Marshal(); err == nil || !strings.Contains(err.Error(), "over protobuf's limit of 2 GiB") {
		t.Errorf("error %v, want the 2 GiB limit", err)
	}
}
