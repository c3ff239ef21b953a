package transformer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/train"
)

// BenchmarkTrainStep measures training throughput at the reference
// configuration (vocabulary 8000, batch 32, AdamW), every text maxlen
// tokens long (128: the comparison; 256: the default maxlen): one
// iteration is one optimizer step on one batch. The PyTorch anchor is
// tools/pytorch/transformer_bench.py.
//
//	go test -run '^$' -bench TrainStep ./models/transformer
func BenchmarkTrainStep(b *testing.B) {
	for _, maxLen := range []int{128, 256} {
		b.Run(fmt.Sprintf("maxlen%d", maxLen), func(b *testing.B) { benchTrainStep(b, maxLen) })
	}
}

func benchTrainStep(b *testing.B, maxLen int) {
	cfg := DefaultConfig()
	cfg.MaxLen = maxLen
	m, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	const n = 32 * 20
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]float32, n*cfg.MaxLen)
	for i := range ids {
		ids[i] = float32(1 + rng.IntN(cfg.VocabSize-1))
	}
	labels := make([]float32, n)
	for i := range labels {
		labels[i] = float32(i % 2)
	}
	ds, err := dataset.NewTensors([][]float32{ids}, [][]int{{cfg.MaxLen}}, labels, nil)
	if err != nil {
		b.Fatal(err)
	}
	tr, err := train.New(m, graph.NewParams(tensor.Float32, 1), cfg.Training())
	if err != nil {
		b.Fatal(err)
	}
	if err := tr.Fit(context.Background(), dataset.Subset{Dataset: ds, Index: []int{0}}, nil); err != nil { // builds the schedule
		b.Fatal(err)
	}
	batch := make([]int, 32)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range batch {
			batch[j] = (i*32 + j) % n
		}
		if _, _, err := tr.TrainStep(ds, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*32)/b.Elapsed().Seconds(), "samples/s")
}
