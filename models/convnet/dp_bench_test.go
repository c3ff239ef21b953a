//go:build unix

package convnet

import (
	"context"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/train"
)

// BenchmarkDPThroughput measures DP-SGD training throughput of the
// GroupNorm ConvNet against non-private training in the same run, on
// Fashion-MNIST-shaped data (1×28×28, 10 classes, batch 64, 640 examples,
// SGD momentum 0.9): per iteration, two epochs of each of non-private
// BatchNorm, non-private GroupNorm and DP GroupNorm (σ 1, C 1), timing the
// second epoch (the machines are compiled by then, as in a long run). It
// reports samples/s of each and the ratios of DP to both non-private runs,
// by wall-clock time and by the process's CPU time (user + system), which
// other load on a shared machine disturbs less.
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
	ds, err := dataset.NewTensors([][]float32{images}, [][]int{{1, 28, 28}}, labels, nil)
	if err != nil {
		b.Fatal(err)
	}
	run := func(norm string, dp bool) (wall, cpu time.Duration) {
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
		var c0 time.Duration
		tr.Hooks.OnEpoch = func(r train.EpochResult) error {
			if r.Epoch == 1 {
				c0 = cpuTime(b)
			} else {
				wall, cpu = r.Duration, cpuTime(b)-c0
			}
			return nil
		}
		if err := tr.Fit(context.Background(), ds, nil); err != nil {
			b.Fatal(err)
		}
		return wall, cpu // an epoch visits n examples in expectation
	}
	var wall, cpu [3]time.Duration
	for i := 0; i < b.N; i++ {
		for j, c := range []struct {
			norm string
			dp   bool
		}{{NormBatch, false}, {NormGroup, false}, {NormGroup, true}} {
			w, c := run(c.norm, c.dp)
			wall[j] += w
			cpu[j] += c
		}
	}
	total := float64(b.N * n)
	b.ReportMetric(total/wall[0].Seconds(), "batchnorm-samples/s")
	b.ReportMetric(total/wall[1].Seconds(), "groupnorm-samples/s")
	b.ReportMetric(total/wall[2].Seconds(), "dp-samples/s")
	b.ReportMetric(wall[0].Seconds()/wall[2].Seconds(), "dp/batchnorm-wall")
	b.ReportMetric(wall[1].Seconds()/wall[2].Seconds(), "dp/groupnorm-wall")
	b.ReportMetric(cpu[0].Seconds()/cpu[2].Seconds(), "dp/batchnorm-cpu")
	b.ReportMetric(cpu[1].Seconds()/cpu[2].Seconds(), "dp/groupnorm-cpu")
}

// cpuTime is the process's user plus system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
