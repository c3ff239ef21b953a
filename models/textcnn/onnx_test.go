package textcnn

import (
	"testing"

	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/internal/testutil/modeltest"
)

// onnxIDs are texts padded before, after, not at all, and empty, with
// padding inside one (which no padding mode writes, but ids may hold).
var onnxIDs = [][]int{
	{0, 0, 0, 0, 5, 9, 2, 17, 3, 1},
	{5, 9, 2, 17, 3, 1, 0, 0, 0, 0},
	{8, 4, 29, 11, 6, 5, 9, 2, 17, 3},
	{0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{0, 7, 0, 0, 12, 0, 0, 0, 0, 0},
	{21, 0, 0, 0, 0, 0, 0, 0, 0, 0},
}

// TestONNXRuntime: ONNX Runtime runs the exported graph of each
// architecture and head and gives tapeml's serving logits and
// probabilities.
func TestONNXRuntime(t *testing.T) {
	kim3 := Config{Arch: Kim, NumWords: 30, EmbedDim: 6, Filters: 5, Widths: []int{1, 3, 4}, Dropout: 0.5, MaxLen: 10}
	kim3.Classes = 3
	kimNorm := Config{Arch: Kim, NumWords: 30, EmbedDim: 6, Filters: 5, Widths: []int{2, 3}, MaxLen: 10, Norm: NormLayer}
	seed := Config{Arch: Seed, NumWords: 30, EmbedDim: 6, Filters: 5, Kernel: 3, Pool: 2, MaxLen: 10}
	// Each architecture with one head; the heads are the same code.
	for name, cfg := range map[string]Config{"kim 3 classes": kim3, "seed": seed} {
		t.Run(name, func(t *testing.T) { modeltest.CheckTextONNX(t, cfg, onnxIDs, 7, 1e-4, nil) })
	}
	// LayerNorm's γ and β start at 1 and 0: give them other values.
	t.Run("kim layer norm", func(t *testing.T) {
		modeltest.CheckTextONNX(t, kimNorm, onnxIDs, 7, 1e-4, func(ps *graph.Params) {
			for i := range ps.Get("norm.weight").Value.Float32s() {
				ps.Get("norm.weight").Value.Float32s()[i] = 0.5 + 0.1*float32(i)
				ps.Get("norm.bias").Value.Float32s()[i] = 0.05*float32(i) - 0.2
			}
		})
	})
}
