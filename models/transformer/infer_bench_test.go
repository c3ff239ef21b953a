package transformer_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/tapemltest"
)

// BenchmarkInfer measures the serving path inferbench times against ONNX
// Runtime, without it: the reference transformer checkpoint (random
// weights, tapemltest) loaded with tapeml.Load, Model.Forward on its token
// ids at batch 1 (latency) and 32 (throughput). For a profile of the
// serving kernels:
//
//	go test -run '^$' -bench Infer -cpuprofile cpu.out ./models/transformer
func BenchmarkInfer(b *testing.B) {
	path, inputs, err := tapemltest.Save("transformer", b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	m, err := tapeml.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, 32} {
		b.Run(fmt.Sprintf("batch%d", n), func(b *testing.B) {
			in := [][]float32{inputs[n].Data}
			for b.Loop() {
				if _, err := m.Forward(context.Background(), in, n); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}
