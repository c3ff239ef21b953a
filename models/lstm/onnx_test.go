package lstm

import (
	"testing"

	"github.com/tapeml/tapeml/internal/testutil/modeltest"
)

// TestONNXRuntimeClasses: the exported graph of a 3-class LSTM runs in
// ONNX Runtime and gives tapeml's serving logits and probabilities.
func TestONNXRuntimeClasses(t *testing.T) {
	cfg := Config{NumWords: 30, EmbedDim: 4, Hidden: 3, Layers: 2, Bidirectional: true, MaxLen: 8}
	cfg.Classes = 3
	ids := [][]int{{0, 0, 0, 5, 9, 2, 17, 3}, {5, 9, 2, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0}, {1, 2, 3, 4, 5, 6, 7, 8}}
	modeltest.CheckTextONNX(t, cfg, ids, 3, 1e-4, nil)
}
