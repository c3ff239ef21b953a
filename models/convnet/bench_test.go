package convnet

import (
	"context"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/train"
)

// BenchmarkTrainStep measures training throughput at the reference
// configuration (3×32×32 images, 10 classes, batch 32, SGD lr 0.001
// momentum 0.9, dropout 0.5): one iteration is one optimizer step on one
// batch. Compare with tools/pytorch/convnet_bench.py at the same thread
// count (GOMAXPROCS here), run at the same time.
//
//	go test -run '^$' -bench TrainStep ./models/convnet
//	/usr/bin/python3 tools/pytorch/convnet_bench.py --threads 2
func BenchmarkTrainStep(b *testing.B) {
	cfg := DefaultConfig()
	m, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	const n, batch = 32 * 20, 32
	size := cfg.Channels * cfg.Height * cfg.Width
	rng := rand.New(rand.NewPCG(1, 2))
	images := make([]float32, n*size)
	for i := range images {
		images[i] = float32(rng.NormFloat64())
	}
	labels := make([]float32, n)
	for i := range labels {
		labels[i] = float32(rng.IntN(cfg.Classes))
	}
	ds, err := dataset.NewTensors([][]float32{images}, [][]int{{cfg.Channels, cfg.Height, cfg.Width}}, labels, nil)
	if err != nil {
		b.Fatal(err)
	}
	tc := DefaultTraining()
	tc.Epochs = 1
	tr, err := train.New(m, graph.NewParams(tensor.Float32, 1), tc)
	if err != nil {
		b.Fatal(err)
	}
	if err := tr.Fit(context.Background(), dataset.Subset{Dataset: ds, Index: []int{0}}, nil); err != nil { // builds the schedule
		b.Fatal(err)
	}
	idx := make([]int, batch)
	step := func(i int) {
		for j := range idx {
			idx[j] = (i*batch + j) % n
		}
		if _, _, err := tr.TrainStep(ds, idx); err != nil {
			b.Fatal(err)
		}
	}
	step(0) // compiles the batch-32 training machine
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step(i)
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "samples/s")
}
