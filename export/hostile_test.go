package export

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/models/textcnn"
	"github.com/tapeml/tapeml/safetensors"
)

// TestImportHostileMetadata: a few bytes of __metadata__ must not make
// Import allocate what they ask for, and non-finite weights are refused.
func TestImportHostileMetadata(t *testing.T) {
	good, err := checkpoint.Load(filepath.Join("testdata", "textcnn"))
	if err != nil {
		t.Fatal(err)
	}
	md := checkpoint.Metadata(good)
	tests := []struct {
		name   string
		config string
		mutate func([]safetensors.Tensor) []safetensors.Tensor
		want   string
	}{
		{"vocabulary of billions", `{"model":{"num_words":2000000000,"embed_dim":64,"filters":8,"kernel":3,"pool":2,"maxlen":20}}`, nil,
			"num_words 2000000000 is over the limit"},
		// 3,000,000 × 32 is within the limits (384 MB of float32) but
		// not the file's shapes: refused before anything is allocated.
		{"in bounds, wrong shapes", `{"model":{"num_words":3000000,"embed_dim":32,"filters":8,"kernel":3,"pool":2,"maxlen":20}}`, nil,
			`"embedding.weight" has shape`},
		{"NaN weight", string(good.Meta.ModelConfig), func(ts []safetensors.Tensor) []safetensors.Tensor {
			v, _ := ts[len(ts)-1].Float32s()
			v[0] = float32(math.NaN())
			ts[len(ts)-1] = safetensors.F32(ts[len(ts)-1].Name, ts[len(ts)-1].Shape, v)
			return ts
		}, "element 0 is NaN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]string{}
			for k, v := range md {
				m[k] = v
			}
			m[checkpoint.MetaConfig] = tc.config
			ts := append([]safetensors.Tensor(nil), good.Weights...)
			if tc.mutate != nil {
				ts = tc.mutate(ts)
			}
			path := filepath.Join(t.TempDir(), "w.safetensors")
			if err := safetensors.WriteFile(path, ts, m); err != nil {
				t.Fatal(err)
			}
			_, err := kinds.Import(path, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	if good.Meta.ModelKind != textcnn.Kind {
		t.Fatalf("testdata holds a %s", good.Meta.ModelKind)
	}
}
