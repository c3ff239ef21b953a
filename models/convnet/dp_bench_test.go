package convnet

import (
	"math/rand/v2"
	"testing"
	"time"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/train"
)

// BenchmarkDPThroughput measures DP-SGD training throughput of the
// GroupNorm ConvNet against non-private training in the same run, on
// Fashion-MNIST-shaped data (1×28×28, 10 classes, batch 64, 640 examples,
// SGD momentum 0.9): per iteration, two epochs of each of non-private
// BatchNorm, non-private GroupNorm and DP GroupNorm (σ 1, C 1), timing the
// second epoch (the machines are compiled by then, as in a long run). It
// reports samples/s of each and the ratios of DP to both non-private runs.
//
//	go test -run '^$' -bench DPThroughput -benchtime 2x ./models/convnet
func BenchmarkDPThroughput(b *testing.B) {
	const n, batch = 640, 64
	cfg := Config{Channels: 1, Height: 28, Width: 28, Classes: 10, Dropout: 0.5}
	size := 28 * 28
	rng := rand.New(rand.NewPCG(1, 2))
	images := make([]float32, n*size)
	for i := range images {
		images[i] = float32(rng.NormFloat64())
	}
	labels := make([]float32, n)
	for i := range labels {
		labels[i] = float32(rng.IntN(10))
	}
	ds, err := train.NewTensors([][]float32{images}, [][]int{{1, 28, 28}}, labels, nil)
	if err != nil {
		b.Fatal(err)
	}
	run := func(norm string, dp bool) (samples int, d time.Duration) {
		c := cfg
		c.Norm = norm
		m, err := New(c)
		if err != nil {
			b.Fatal(err)
		}
		tc := DefaultTraining()
		tc.Epochs, tc.Batch = 2, batch
		if dp {
			tc.DP = &train.DPConfig{MaxGradNorm: 1, Noise: 1, Delta: 1e-5 / 2}
		}
		tr, err := train.New(m, graph.NewParams(tensor.Float32, 1), tc)
		if err != nil {
			b.Fatal(err)
		}
		tr.Hooks.OnEpoch = func(r train.EpochResult) error {
			d = r.Duration
			return nil
		}
		if err := tr.Fit(ds, nil); err != nil {
			b.Fatal(err)
		}
		return n, d // an epoch visits n examples in expectation
	}
	var tb, tg, td time.Duration
	for i := 0; i < b.N; i++ {
		_, d := run(NormBatch, false)
		tb += d
		_, d = run(NormGroup, false)
		tg += d
		_, d = run(NormGroup, true)
		td += d
	}
	total := float64(b.N * n)
	b.ReportMetric(total/tb.Seconds(), "batchnorm-samples/s")
	b.ReportMetric(total/tg.Seconds(), "groupnorm-samples/s")
	b.ReportMetric(total/td.Seconds(), "dp-samples/s")
	b.ReportMetric(tb.Seconds()/td.Seconds(), "dp/batchnorm")
	b.ReportMetric(tg.Seconds()/td.Seconds(), "dp/groupnorm")
}
