package lstm

import (
	"context"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/train"
	"github.com/tapeml/tapeml/train/optim"
)

// The BiLSTM trains under DP-SGD: every parameter has per-example
// gradients, padding and dropout included.
func TestDPTraining(t *testing.T) {
	cfg := smallConfig()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]float32, n*cfg.MaxLen)
	labels := make([]float32, n)
	for i := 0; i < n; i++ {
		real := 1 + rng.IntN(cfg.MaxLen)
		for t := cfg.MaxLen - real; t < cfg.MaxLen; t++ {
			ids[i*cfg.MaxLen+t] = float32(1 + rng.IntN(cfg.NumWords-1))
		}
		labels[i] = float32(i % 2)
	}
	ds, err := dataset.NewTensors([][]float32{ids}, [][]int{{cfg.MaxLen}}, labels, nil)
	if err != nil {
		t.Fatal(err)
	}
	tc := train.Config{Epochs: 2, Batch: 8, LR: 0.01, Optimizer: optim.Config{Name: optim.Adam},
		DP: &train.DPConfig{MaxGradNorm: 1, Noise: 1, Delta: 1e-3}}
	tr, err := train.New(m, graph.NewParams(tensor.Float32, 1), tc)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Fit(context.Background(), ds, nil); err != nil {
		t.Fatal(err)
	}
	p, ok, err := tr.Privacy(n)
	if !ok || err != nil || !(p.Epsilon > 0) || p.Steps != 10 {
		t.Fatalf("privacy %+v, %v, %v", p, ok, err)
	}
}
