// Package graph builds models as Gorgonia expression graphs and compiles
// them into tape machines.
//
// A model is Go code that, given a *Builder, adds its layers to a graph and
// returns its Outputs: the input nodes a batch is bound to, the output node
// (logits or predictions), and the scalar loss. Parameters live in a *Params
// store, outside any one graph, under the names of the equivalent PyTorch
// state_dict ("fc.weight", "conv.bias"), so one set of values serves every
// graph built from it: the training graph and the inference graph, for every
// batch size a Program compiles.
//
// Layers are functions of the Builder (Linear, Embedding,
// PositionEmbedding, TokenTypeEmbedding, Conv1D, Conv2D, BatchNorm2D,
// GroupNorm, LayerNorm, MaxPool1D, MaxPool2D, GlobalMaxPool1D, LSTM,
// SelfAttention, Flatten, SwapAxes, Dropout, ReLU, Sigmoid, Tanh, GELU,
// Add, RowDot, Clamp, AddScalar; AddLayerNorm, LinearGELU and
// LinearReLU, which the float32 serving graph computes as one kernel
// each) and so are losses
// (BCEWithLogits, SoftmaxCrossEntropy, MSE). Most of them are custom
// Gorgonia ops (see kernel in op.go) with hand-written forward and backward
// passes: Gorgonia's own convolution and transposes are slow, its dropout
// reads the clock, and it has no embedding lookup. Every op has a
// finite-difference gradient check in the tests (GradCheck).
//
// An Infer machine does not run on the tape: Compile lays its graph out
// as a static plan (plan.go), the kernels' forward passes in topological
// order over tensors allocated once, and Run calls them in a loop,
// allocating nothing once warm: the serving kernels keep their scratch
// and fork through a forkSite (fork.go). Train and Eval machines,
// attribution machines and CompileSamples keep the tape.
//
// CompileSamples compiles a training graph that gives every example's own
// gradient instead of the batch's (persample.go), for differentially
// private training: each parameter's layer op computes them from its saved
// input and output gradient, as Opacus's grad samplers do.
//
// Initializers follow PyTorch's defaults: kaiming-uniform with a=√5 for
// Linear and convolution weights, U(−1/√fan_in, 1/√fan_in) for their biases,
// N(0, 1) for embeddings.
//
// # Kernel paths
//
// The layers compute with the numeric kernels of package internal/kernel
// (imported as kern: kernel is the name of graph's op interface). The
// float32 matrix product and the hot element-wise loops (tanh, sigmoid,
// and in train/optim the fused optimizer updates and the gradient norm)
// have three implementations, chosen once at start-up from what the CPU
// and the OS support: AVX-512 (F, BW, DQ and VL; a 12×32 sgemm
// micro-kernel with masked edges), AVX2 with FMA (a 6×16 micro-kernel),
// and generic Go (gonum's Sgemm), which is also the only one in builds
// with the purego tag or off amd64. The environment variable TAPEML_SIMD,
// read once when the program starts, forces a path: avx512, avx2 or
// generic. A path the CPU or build lacks, or any other value, is reported
// on standard error and the best supported path is used instead. SIMD
// reports the path in use, QGemmPath the int8 product's.
//
// Each path gives the same bits from run to run for the same thread count
// (GOMAXPROCS). Paths round some operations differently (the two sgemm
// kernels sum in different blocks; a vector fused multiply-add rounds
// once), so training is bit-identical only for the same binary, the same
// kernel path (CPU features, or TAPEML_SIMD) and the same thread count.
package graph
