package convnet

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/internal/testutil/modeltest"
)

// The serving graph (the folded, pooled direct convolutions) gives ONNX
// Runtime's logits and probabilities on the exported model: 3×16×16
// images at batch 1 (each block's tiles split over the threads), and at
// batch 3 (examples split) an odd image whose pooled rows are not a
// multiple of the 8-column tile; and at batch 32 a 3×32×16 image, whose
// first dense layer (4096→1024, 16 MB) runs as yᵀ = W·xᵀ. (The reference 3×32×32 blocks are
// checked against the evaluation graph in package graph; here its 32 MB
// first dense layer would only slow the test.) The batch norms'
// statistics are random, so the folding matters. It skips without ONNX
// Runtime.
func TestServingMatchesONNXRuntime(t *testing.T) {
	for _, c := range []struct {
		cfg Config
		n   int
	}{
		{Config{Channels: 3, Height: 16, Width: 16, Classes: 10}, 1},
		{Config{Channels: 2, Height: 12, Width: 22, Classes: 3}, 3},
		{Config{Channels: 3, Height: 32, Width: 16, Classes: 10}, 32},
	} {
		rng := rand.New(rand.NewPCG(27, uint64(c.n)))
		randomBN := func(params *graph.Params) {
			for _, p := range params.List() {
				if !strings.Contains(p.Name, ".1.") || p.Counter { // the batch norms ("layer1.1.weight", …)
					continue
				}
				for i := range p.Value.Float32s() {
					v := float32(rng.NormFloat64())
					if strings.HasSuffix(p.Name, "running_var") {
						v = 0.2 + rng.Float32()
					}
					p.Value.Float32s()[i] = v
				}
			}
		}
		images := make([]float32, c.n*c.cfg.Channels*c.cfg.Height*c.cfg.Width)
		for i := range images {
			images[i] = float32(rng.NormFloat64())
		}
		in := modeltest.Input{Name: "images", Dtype: "float32", Shape: []int{c.n, c.cfg.Channels, c.cfg.Height, c.cfg.Width}, Values: images}
		modeltest.CheckONNX(t, c.cfg, 5, in, 1e-4, randomBN)
	}
}
