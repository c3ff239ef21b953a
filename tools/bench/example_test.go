package bench_test

import (
	"os"

	"github.com/tapeml/tapeml/tools/bench"
)

func ExampleReport_WriteText() {
	r := &bench.Report{
		Machine: bench.Machine{CPU: "Example CPU", Features: []string{"avx2", "fma"}, SIMD: "avx2", SIMDMax: "avx2", Threads: 2, GoVersion: "go1.26", OSArch: "linux/amd64", PyTorch: "1.13.1"},
		Training: []bench.Row{
			{Model: "textcnn", Batch: 32, Tapeml: bench.Throughput{SamplesPerSec: 3000}, Engine: "pytorch", Reference: &bench.Throughput{SamplesPerSec: 2000}, Ratio: 1.5},
			{Model: "mf", Batch: 256, Tapeml: bench.Throughput{SamplesPerSec: 100000}, Note: "PyTorch not run (no python)"},
		},
	}
	r.WriteText(os.Stdout)
	// Output:
	// CPU: Example CPU
	// features: avx2 fma
	// tapeml kernels: avx2 (best supported: avx2); threads: 2; go1.26 linux/amd64; PyTorch 1.13.1
	//
	// training (samples/s)
	//     model  batch    tapeml       reference  ratio
	//   textcnn     32    3000.0  pytorch 2000.0  1.50×
	//        mf    256  100000.0               —      —
	//   mf: PyTorch not run (no python)
}
