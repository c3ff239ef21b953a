package tapeml_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/tapemltest"
)

// BenchmarkForward measures the serving graph of each reference model
// (random weights) at batch 32 and 1; tools/inferbench sets the same runs
// against ONNX Runtime.
//
//	go test -run '^$' -bench Forward .
func BenchmarkForward(b *testing.B) {
	for _, kind := range []string{"textcnn", "lstm", "convnet", "transformer"} {
		path, batches, err := tapemltest.Save(kind, b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		m, err := tapeml.Load(path)
		if err != nil {
			b.Fatal(err)
		}
		for _, n := range []int{32, 1} {
			b.Run(fmt.Sprintf("%s/batch%d", kind, n), func(b *testing.B) {
				in := [][]float32{batches[n].Data}
				for b.Loop() {
					if _, err := m.Forward(context.Background(), in, n); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "samples/s")
			})
		}
	}
}
