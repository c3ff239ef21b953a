package checkpoint

import (
	"strings"
	"testing"
)

// quantization.json's float32 list (layers kept in float32 by the
// per-layer choice) is checked like the rest: each error names the
// tensor; a list that fits loads.
func TestQuantizationFloat32List(t *testing.T) {
	c, err := Load("../testdata/legacy/textcnn")
	if err != nil {
		t.Fatal(err)
	}
	name := c.Weights[len(c.Weights)-2].Name // a float32 weight of the model
	for _, tc := range []struct {
		json, want string
	}{
		{`{"format":"int8","tensors":{},"float32":{"` + name + `":"linear"}}`, ""},
		{`{"format":"int8","tensors":{}}`, ""},
		{`{"format":"int8","tensors":{},"float32":{"nope.weight":"linear"}}`, `"nope.weight" is not stored as an F32 tensor`},
		{`{"format":"int8","tensors":{},"float32":{"` + name + `":"embedding"}}`, `has role "embedding"`},
		{`{"format":"int8","tensors":{"` + name + `":"linear"},"float32":{"` + name + `":"linear"}}`, "no tensor"},
	} {
		cc := *c
		cc.Extra = map[string][]byte{QuantizationFile: []byte(tc.json)}
		_, q, _, err := cc.Dequantized()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.json, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: err %v, want one containing %q", tc.json, err, tc.want)
		case tc.want == "" && strings.Contains(tc.json, "float32") && q.Float32[name] != "linear":
			t.Errorf("%s: float32 list %v", tc.json, q.Float32)
		}
	}
}
