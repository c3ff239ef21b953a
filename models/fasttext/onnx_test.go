package fasttext

import (
	"testing"

	"github.com/tapeml/tapeml/internal/testutil/modeltest"
)

// TestONNXRuntime: ONNX Runtime runs the exported graph (with and without
// bigrams, two and four classes) on texts padded before, after, not at
// all, inside, and empty, and gives tapeml's serving logits and
// probabilities.
func TestONNXRuntime(t *testing.T) {
	ids := [][]int{
		{0, 0, 0, 0, 5, 9, 2, 17, 3, 1},
		{5, 9, 2, 17, 3, 1, 0, 0, 0, 0},
		{8, 4, 29, 11, 6, 5, 9, 2, 17, 3},
		{0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		{0, 7, 0, 0, 12, 13, 0, 0, 0, 0},
		{21, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	}
	base := Config{NumWords: 30, Buckets: 13, EmbedDim: 6, MaxLen: 10}
	words := base
	words.Buckets = 0
	four := base
	four.Classes = 4
	for name, cfg := range map[string]Config{"bigrams, 4 classes": four, "words": words} {
		t.Run(name, func(t *testing.T) { modeltest.CheckTextONNX(t, cfg, ids, 7, 1e-4, nil) })
	}
}
