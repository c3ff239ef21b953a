package lstm

import (
	"context"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/train"
)

// benchConfig is the reference architecture at the throughput reference's
// sequence length, maxlen 100.
func benchConfig() Config {
	c := DefaultConfig()
	c.MaxLen = 100
	return c
}

// BenchmarkTrainStep measures training throughput at the reference
// configuration (vocabulary 25000, maxlen 100, batch 32, Adam, dropout on):
// one iteration is one optimizer step on one batch of texts with no
// padding, the most expensive case. Compare with
// /usr/bin/python3 tools/pytorch/lstm_bench.py --threads 2.
//
//	go test -run '^$' -bench TrainStep ./models/lstm
func BenchmarkTrainStep(b *testing.B) {
	cfg := benchConfig()
	m, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	const n = 32 * 20
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]float32, n*cfg.MaxLen)
	for i := range ids {
		ids[i] = float32(1 + rng.IntN(cfg.NumWords-1))
	}
	labels := make([]float32, n)
	for i := range labels {
		labels[i] = float32(i % 2)
	}
	ds, err := dataset.NewTensors([][]float32{ids}, [][]int{{cfg.MaxLen}}, labels, nil)
	if err != nil {
		b.Fatal(err)
	}
	tr, err := train.New(m, graph.NewParams(tensor.Float32, 1), train.Config{Epochs: 1, Batch: 32})
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

// BenchmarkBuildAndCompile measures what a trainer does before its first
// step: creating and initializing the reference model's parameters (4.8
// million values), building its training graph at maxlen 200 for a batch of
// 32 with every gradient node, and compiling it into a tape machine.
//
//	go test -run '^$' -bench BuildAndCompile ./models/lstm
func BenchmarkBuildAndCompile(b *testing.B) {
	for i := 0; i < b.N; i++ {
		m, err := New(DefaultConfig())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := graph.Compile(m.Build, m.Loss, graph.NewParams(tensor.Float32, 1), &graph.Noise{}, 32, graph.Train); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/compile")
}
