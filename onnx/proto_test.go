package onnx

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"reflect"
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

// TestPythonGolden checks both directions against the reference protobuf
// implementation: the Go decoder reads what onnx.helper wrote, and the Go
// encoder writes the same bytes for the same model.
func TestPythonGolden(t *testing.T) {
	want := readGolden(t)
	got, err := Unmarshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, goldenModel()) {
		t.Errorf("decoded golden:\n got %+v\nwant %+v", got, goldenModel())
	}
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

func TestTensorValues(t *testing.T) {
	m := goldenModel()
	tests := []struct {
		name    string
		floats  []float32
		int64s  []int64
		wantErr string
	}{
		{name: "w", floats: []float32{0, 1, 2, 3, 4, 5}},
		{name: "fd", floats: []float32{1.5, -2.25}},
		{name: "k", int64s: []int64{1, -2, 300}},
		{name: "s", int64s: []int64{5}},
		{name: "i32", wantErr: `tensor "i32" is int32, not float`},
	}
	for _, tc := range tests {
		tensor, ok := m.Graph.Initializer(tc.name)
		if !ok {
			t.Fatalf("no initializer %q", tc.name)
		}
		var got any
		var err error
		if tc.int64s != nil {
			got, err = tensor.Int64s()
		} else {
			got, err = tensor.Float32s()
		}
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.int64s != nil && !reflect.DeepEqual(got, tc.int64s), tc.floats != nil && !reflect.DeepEqual(got, tc.floats):
			t.Errorf("%s: got %v", tc.name, got)
		}
	}
	short := Tensor{Name: "short", DataType: Float, Dims: []int64{3}, RawData: make([]byte, 8)}
	if _, err := short.Float32s(); err == nil || !strings.Contains(err.Error(), "need 12 bytes") {
		t.Errorf("short raw_data: %v", err)
	}
}

// TestDecodeBothRepeatedEncodings: parsers must accept repeated scalars
// packed and unpacked, whichever the .proto declares.
func TestDecodeBothRepeatedEncodings(t *testing.T) {
	var unpacked, packed encoder
	for _, e := range []*encoder{&unpacked, &packed} {
		e.string(tensorName, "d")
		e.int64(tensorDataType, int64(Float))
	}
	unpacked.int64(tensorDims, 2)
	unpacked.int64(tensorDims, 3)
	unpacked.float32(tensorFloatData, 1)
	unpacked.float32(tensorFloatData, -1)
	unpacked.int64(tensorInt64Data, -5)
	packed.packedInt64s(tensorDims, []int64{2, 3})
	packed.packedFloat32s(tensorFloatData, []float32{1, -1})
	packed.packedInt64s(tensorInt64Data, []int64{-5})
	for name, e := range map[string]*encoder{"unpacked": &unpacked, "packed": &packed} {
		var got Tensor
		if err := got.decode(e.b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := Tensor{Name: "d", DataType: Float, Dims: []int64{2, 3}, FloatData: []float32{1, -1}, Int64Data: []int64{-5}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v", name, got)
		}
	}
}

func TestUnmarshalRejects(t *testing.T) {
	entry := func(k, v string) []byte {
		var e encoder
		e.message(modelMetadataProps, func(e *encoder) { e.string(entryKey, k); e.string(entryValue, v) })
		return e.b
	}
	graphWith := func(fill func(*encoder)) []byte {
		var e encoder
		e.message(modelGraph, fill)
		return e.b
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"varint overflow", []byte{0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, "overflows"},
		{"truncated varint", []byte{0x08, 0x80}, "truncated"},
		{"length past end", []byte{0x3a, 0x05, 0x01}, "runs past the end"},
		{"group wire type", []byte{0x0b}, "unsupported wire type 3"},
		{"field number 0", []byte{0x00, 0x01}, "invalid field number 0"},
		{"graph as varint", []byte{0x38, 0x01}, "field 7 has wire type 0, expected 2"},
		{"duplicate metadata", append(entry("k", "1"), entry("k", "2")...), `key "k" appears twice`},
		{"packed floats of 3 bytes", graphWith(func(e *encoder) {
			e.message(graphInitializer, func(e *encoder) { e.bytes(tensorFloatData, []byte{1, 2, 3}) })
		}), "GraphProto: initializer[0]: TensorProto: field 4: packed floats take 3 bytes"},
		{"data_type beyond int32", graphWith(func(e *encoder) {
			e.message(graphInitializer, func(e *encoder) { e.int64(tensorDataType, 1<<40) })
		}), "does not fit int32"},
		{"bad node attribute", graphWith(func(e *encoder) {
			e.message(graphNode, func(e *encoder) {
				e.message(nodeAttribute, func(e *encoder) { e.int64(attrF, 1) })
			})
		}), "node[0]: NodeProto: attribute[0]: AttributeProto: field 2 has wire type 0, expected 5"},
	}
	for _, tc := range tests {
		_, err := Unmarshal(tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

// TestUnmarshalTruncations cuts the golden at every byte: never a panic,
// and a cut inside the last field is an error.
func TestUnmarshalTruncations(t *testing.T) {
	b := readGolden(t)
	for n := range b {
		Unmarshal(b[:n]) // must not panic; some prefixes are valid messages
	}
	if _, err := Unmarshal(b[:len(b)-1]); err == nil {
		t.Error("the golden minus its last byte decoded without error")
	}
}

func TestUnknownFieldsAreSkipped(t *testing.T) {
	b := readGolden(t)
	var e encoder
	e.int64(25, 1)                                                     // a varint field the subset does not know
	e.bytes(20, []byte{1, 2, 3})                                       // training_info: skipped
	e.float32(99, 1)                                                   // fixed32
	e.b = binary.LittleEndian.AppendUint64(append(e.b, 0x99, 0x06), 7) // field 99, fixed64
	got, err := Unmarshal(append(append([]byte{}, b...), e.b...))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, goldenModel()) {
		t.Error("unknown fields changed the decoded model")
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
