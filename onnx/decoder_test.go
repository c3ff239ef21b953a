package onnx_test

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/tapeml/tapeml/internal/testutil/onnxtest"
	"github.com/tapeml/tapeml/onnx"
)

// pythonGolden is a model of every field the subset has, written by the reference
// protobuf implementation (tools/onnx/golden.py).
func pythonGolden(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/python.onnx")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReencode: the golden decodes to a model that Marshal writes back to
// the same bytes, so no field was dropped or misplaced. (onnx's tests check
// the decoded model field by field and pin Marshal to the golden.)
func TestReencode(t *testing.T) {
	want := pythonGolden(t)
	m, err := onnxtest.Unmarshal(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Marshal(onnxtest.Unmarshal(golden)) is %d bytes, the golden %d", len(got), len(want))
	}
}

func tag(num protowire.Number, typ protowire.Type) []byte { return protowire.AppendTag(nil, num, typ) }

func varint(num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(tag(num, protowire.VarintType), v)
}

func delimited(num protowire.Number, parts ...[]byte) []byte {
	return protowire.AppendBytes(tag(num, protowire.BytesType), bytes.Join(parts, nil))
}

func str(num protowire.Number, s string) []byte { return delimited(num, []byte(s)) }

func fixed32(num protowire.Number, v uint32) []byte {
	return protowire.AppendFixed32(tag(num, protowire.Fixed32Type), v)
}

func TestRejects(t *testing.T) {
	entry := func(k, v string) []byte { return delimited(14, str(1, k), str(2, v)) }
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"varint overflow", []byte{0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, "overflow"},
		{"truncated varint", []byte{0x08, 0x80}, "unexpected EOF"},
		{"length past end", []byte{0x3a, 0x05, 0x01}, "unexpected EOF"},
		{"field number 0", []byte{0x00, 0x01}, "invalid field number"},
		{"graph as varint", varint(7, 1), "ModelProto: field 7: wire type 0, expected 2"},
		{"graph as group", []byte{0x3b, 0x3c}, "ModelProto: field 7: wire type 3, expected 2"},
		{"duplicate metadata", append(entry("k", "1"), entry("k", "2")...), `metadata key "k" appears twice`},
		{"packed floats of 3 bytes", delimited(7, delimited(5, delimited(4, []byte{1, 2, 3}))),
			"initializer[0]: field 4: packed floats take 3 bytes"},
		{"data_type beyond int32", delimited(7, delimited(5, varint(2, 1<<40))), "does not fit int32"},
		{"int32_data beyond int32", delimited(7, delimited(5, delimited(5, protowire.AppendVarint(nil, 1<<40)))), "does not fit int32"},
		{"bad node attribute", delimited(7, delimited(1, delimited(5, varint(2, 1)))),
			"ModelProto: field 7: GraphProto: field 1: node[0]: field 5: attribute[0]: field 2: wire type 0, expected 5"},
	}
	for _, tc := range tests {
		_, err := onnxtest.Unmarshal(tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

// TestTruncations cuts the golden at every byte: never a panic, and a cut
// inside the last field is an error.
func TestTruncations(t *testing.T) {
	b := pythonGolden(t)
	for n := range b {
		onnxtest.Unmarshal(b[:n]) // must not panic; some prefixes are valid messages
	}
	if _, err := onnxtest.Unmarshal(b[:len(b)-1]); err == nil {
		t.Error("the golden minus its last byte decoded without error")
	}
}

func TestUnknownFieldsAreSkipped(t *testing.T) {
	b := pythonGolden(t)
	want, err := onnxtest.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	unknown := bytes.Join([][]byte{
		varint(25, 1),                  // a varint field the subset does not know
		delimited(20, []byte{1, 2, 3}), // training_info
		fixed32(99, 1),                 // fixed32
		protowire.AppendFixed64(tag(98, protowire.Fixed64Type), 7),
		append(tag(97, protowire.StartGroupType), tag(97, protowire.EndGroupType)...), // a group
	}, nil)
	got, err := onnxtest.Unmarshal(append(append([]byte{}, b...), unknown...))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Error("unknown fields changed the decoded model")
	}
}

// TestBothRepeatedEncodings: parsers must accept repeated scalars packed
// and unpacked, whichever the .proto declares.
func TestBothRepeatedEncodings(t *testing.T) {
	packedInts := func(num protowire.Number, v ...int64) []byte {
		var p []byte
		for _, x := range v {
			p = protowire.AppendVarint(p, uint64(x))
		}
		return delimited(num, p)
	}
	head := bytes.Join([][]byte{str(8, "d"), varint(2, uint64(onnx.Float))}, nil)
	neg5 := uint64(1<<64 - 5)
	encodings := map[string][]byte{
		"unpacked": bytes.Join([][]byte{head, varint(1, 2), varint(1, 3), fixed32(4, 0x3f800000), fixed32(4, 0xbf800000), varint(7, neg5)}, nil),
		"packed": bytes.Join([][]byte{head, packedInts(1, 2, 3),
			delimited(4, protowire.AppendFixed32(protowire.AppendFixed32(nil, 0x3f800000), 0xbf800000)), packedInts(7, -5)}, nil),
	}
	want := onnx.Tensor{Name: "d", DataType: onnx.Float, Dims: []int64{2, 3}, FloatData: []float32{1, -1}, Int64Data: []int64{-5}}
	for name, b := range encodings {
		m, err := onnxtest.Unmarshal(delimited(7, delimited(5, b)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := m.Graph.Initializers; len(got) != 1 || !reflect.DeepEqual(got[0], want) {
			t.Errorf("%s: got %+v", name, got)
		}
	}
}
