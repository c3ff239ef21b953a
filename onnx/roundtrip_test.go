package onnx_test

import (
	"os"
	"reflect"
	"testing"

	"github.com/tapeml/tapeml/internal/testutil/onnxtest"
	"github.com/tapeml/tapeml/onnx"
)

// TestDecodeGolden: the decoder the tests use reads what the reference
// protobuf implementation wrote (testdata/python.onnx) into the model it
// was written from.
func TestDecodeGolden(t *testing.T) {
	b, err := os.ReadFile("testdata/python.onnx")
	if err != nil {
		t.Fatal(err)
	}
	got, err := onnxtest.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if want := onnx.GoldenModel(); !reflect.DeepEqual(got, want) {
		t.Errorf("decoded golden:\n got %+v\nwant %+v", got, want)
	}
}

// TestRoundTrip: every model graph decodes back to the model it was
// encoded from.
func TestRoundTrip(t *testing.T) {
	for name, m := range goldenModels(t) {
		b, err := m.Marshal()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		back, err := onnxtest.Unmarshal(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(back, m) {
			t.Errorf("%s: Unmarshal(Marshal(m)) differs from m", name)
		}
	}
}
