package onnx_test

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/onnx"
	"github.com/tapeml/tapeml/safetensors"
)

var update = flag.Bool("update", false, "rewrite testdata/models.sha256")

// goldenSums is where TestMarshalGolden keeps the SHA-256 of each small
// model's encoding, in sha256sum's format.
const goldenSums = "testdata/models.sha256"

// goldenModels builds every model graph the package can make, at the small
// configurations, with weights that depend only on their names' order and
// shapes (not on tapeml's initialization), so that the encodings change
// only when a builder, a config's JSON or the encoder does.
func goldenModels(t testing.TB) map[string]*onnx.Model {
	t.Helper()
	models := map[string]*onnx.Model{}
	for _, e := range exporters(small) {
		ws := checkpoint.Weights(e.tapeml(t, 1).params)
		k := 0
		for i, w := range ws {
			if w.Dtype != "F32" {
				continue // the BatchNorm counters, which the graphs leave out
			}
			v := make([]float32, w.Numel())
			for j := range v {
				v[j] = float32(k%1009)/256 - 2 // exact in float32, no two neighbours equal
				k++
			}
			ws[i] = safetensors.F32(w.Name, w.Shape, v)
		}
		m, err := e.export(ws)
		if err != nil {
			t.Fatalf("%s: %v", e.name, err)
		}
		models[e.name] = m
	}
	return models
}

// TestMarshalGolden pins the bytes Marshal writes for every model graph:
// a change to them must be deliberate (go test ./onnx -run MarshalGolden
// -update rewrites the sums), and checked in ONNX Runtime
// (tools/roundtrip/run.sh) before it is.
func TestMarshalGolden(t *testing.T) {
	models := goldenModels(t)
	var sums strings.Builder
	for _, e := range exporters(small) {
		b, err := models[e.name].Marshal()
		if err != nil {
			t.Fatalf("%s: %v", e.name, err)
		}
		fmt.Fprintf(&sums, "%x  %s\n", sha256.Sum256(b), e.name)
	}
	if *update {
		if err := os.WriteFile(goldenSums, []byte(sums.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenSums)
	if err != nil {
		t.Fatal(err)
	}
	if got := sums.String(); got != string(want) {
		t.Errorf("the encodings changed:\n got %s\nwant %s", got, want)
	}
}
