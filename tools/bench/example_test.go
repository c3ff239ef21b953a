package bench_test

import (
	"os"

	"github.com/tapeml/tapeml/tools/bench"
)

func ExampleReport_WriteText() {
	r := &bench.Report{
		Machine: bench.Machine{CPU: "Example CPU", Features: []string{"avx2", "fma"}, SIMD: "avx2", SIMDMax: "avx2", Threads: 2, GoVersion: "go1.26", OSArch: "linux/amd64", PyTorch: "1.13.1",
			SgemmGFLOPs: 300, Peak: 310, FMAGFLOPs: 400, Anchor: &bench.Anchor{Torch: "1.13.1", BLASInfo: "generic", Libraries: []string{"/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3"},
				OpenBLASCore: "SkylakeX", MMGFLOPs: 310, Setting: "environment as given"}},
		Training: []bench.Row{
			{Model: "textcnn", Batch: 32, Tapeml: bench.Throughput{SamplesPerSec: 3000}, Engine: "pytorch", Reference: &bench.Throughput{SamplesPerSec: 2000}, Ratio: 1.5,
				FLOPsPerSample: 31e6, TapemlOfPeak: 0.3, ReferenceOfPeak: 0.2},
			{Model: "mf", Batch: 256, Tapeml: bench.Throughput{SamplesPerSec: 100000}, Note: "PyTorch not run (no python)"},
		},
	}
	r.WriteText(os.Stdout)
	// Output:
	// CPU: Example CPU
	// features: avx2 fma
	// tapeml kernels: avx2 (best supported: avx2); threads: 2; go1.26 linux/amd64
	// sgemm peak: 310.0 GFLOP/s (tapeml's sgemm at 1024²: 300.0; torch.mm: 310.0)
	// FMA peak: 400.0 GFLOP/s (avx2 multiply-adds on registers only, the arithmetic limit; the sgemm peak is 78% of it)
	// anchor: PyTorch 1.13.1, BLAS_INFO=generic, sgemm from /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 (OpenBLAS kernels SkylakeX)
	// anchor setting: environment as given
	//
	// training (samples/s)
	//     model  batch    tapeml       reference  ratio  MFLOP/sample  tapeml of peak  reference of peak
	//   textcnn     32    3000.0  pytorch 2000.0  1.50×            31           30.0%              20.0%
	//        mf    256  100000.0               —      —             —               —                  —
	//   mf: PyTorch not run (no python)
}
