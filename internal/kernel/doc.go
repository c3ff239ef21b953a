// Package kernel holds tapeml's numeric kernels and the one place that
// chooses the vector instructions they use.
//
// It has, each with a vector path and a plain Go one:
//
//   - the float32 matrix product: Sgemm, and SgemmPacked with an operand
//     laid out once (PackedB), blocked in the GotoBLAS style around a 6×16
//     AVX2 or a 12×32 AVX-512 micro-kernel, gonum's Sgemm otherwise; the
//     AVX-512 kernel reads full 12-row panels of a row-major A in place
//     instead of packing them, and the few rows past them (all of a batch
//     of one) with narrow kernels of 1–4 rows, in place too, with the
//     same bits; SgemmPackedBias stores a dense layer's bias with the
//     product; SgemmPackedReverse takes the panels last to first, so that
//     a recurrence alternating the two finds its weights in cache;
//     SgemmPackedAXt multiplies a left operand laid out once (PackedA),
//     prefetching it, by a batch of few rows transposed and packed a
//     block at a time: a serving dense layer's weights (yᵀ = W·xᵀ); the
//     packing of a transposed operand moves whole 16×16 blocks in AVX-512
//     registers;
//   - the serving ConvNet block's direct convolution, ConvPool: a
//     stride-1 convolution read straight from the padded input by the
//     12×32 AVX-512 micro-kernel (8×32 for a last panel of at most 8
//     channels), with 2×2 max-pooling, a per-channel bias and ReLU applied
//     to each tile in registers (Go below AVX-512, where
//     the serving graph keeps its im2col product instead); and Conv,
//     the same product stored unpooled plus a bias, for training's
//     stride-1 forward passes and input gradients (8×32 and 4×32 tiles
//     for a last panel of at most 8 or 4 channels);
//   - the int8 product of the quantized serving graph: QPack, QGemm and
//     QGemmTiles (AVX-512 VNNI, AVX2 or Go), DequantTile, QuantEncode and
//     Quantize;
//   - the LSTM's float32 activations, Tanh and Sigmoid;
//   - the exact GELU and its gradient, GELU and GELUGrad (AVX-512, AVX2
//     or Go);
//   - layer normalization's float32 rows: MeanVar and Normalize (AVX-512,
//     AVX2 or Go, the same bits);
//   - the attention softmax's float32 functions: Max (AVX-512, AVX2 or
//     Go), ExpSum and Exp (AVX-512 or Go; Max and ExpSum take a row's last
//     partial vector under an AVX-512 mask);
//   - the scalar Exp32 and Erf32;
//   - the optimizers' fused updates, Adam, SGDMomentum and SGD;
//   - small vector loops: SumSquares and ReduceLanes (gradient norms),
//     AddTo, Fill, ReLU and its gradient ReLUGrad, and Transpose.
//
// It is a package of its own for the reason gonum keeps internal/asm apart
// from blas/gonum: the assembly, its Go fallbacks and the choice between
// them live together and are tested together, each kernel against a plain
// Go reference at every level the CPU has, without building a graph.
// Package graph (the layers) and train/optim (the optimizers) call the
// kernels and know nothing of instruction sets.
//
// # Dispatch
//
// The level (Generic, AVX2, AVX512) is detected once at start-up with
// golang.org/x/sys/cpu: AVX2 needs AVX, AVX2 and FMA, AVX512 needs
// AVX-512 F, BW, DQ and VL, each with the OS saving the registers' state.
// The environment variable TAPEML_SIMD (avx512, avx2 or generic), read
// once at start-up, may lower it; a level the CPU or build lacks, or any
// other value, is reported on standard error and the highest supported
// level is used instead. x/sys/cpu also honours GODEBUG's cpu.* options
// (cpu.avx512f=off, for one). Builds with the purego tag, and other
// architectures, have no assembly and only the generic level. The int8
// product uses VNNI when the level is AVX512 and the CPU has it (VNNI);
// it is not a level of its own.
//
// Every kernel reads the active level (Active) when it runs; nothing
// keeps a copy of it, so Set, for tests, switches every kernel at once.
// An operand laid out for one kernel (PackedB, QPacked) keeps using it.
//
// # Numerics
//
// Each level gives the same bits from run to run for the same thread
// count. Levels round some operations differently (the two sgemm kernels
// sum in different blocks; a vector fused multiply-add rounds once where
// Go rounds twice), so results are bit-identical only for the same binary,
// level and thread count. The int8 product, SumSquares, AddTo, Fill, ReLU,
// ReLUGrad and Transpose give the same bits at every level.
package kernel
