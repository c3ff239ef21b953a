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
// Layers are functions of the Builder (Linear, Embedding, Conv1D, Conv2D,
// BatchNorm2D, GroupNorm, MaxPool1D, MaxPool2D, GlobalMaxPool1D, LSTM,
// Flatten, SwapAxes, Dropout, ReLU, Sigmoid, Tanh, RowDot, Clamp,
// AddScalar) and so are losses
// (BCEWithLogits, SoftmaxCrossEntropy, MSE). Most of them are custom
// Gorgonia ops (see kernel in op.go) with hand-written forward and backward
// passes: Gorgonia's own convolution and transposes are slow, its dropout
// reads the clock, and it has no embedding lookup. Every op has a
// finite-difference gradient check in the tests (GradCheck).
//
// CompileSamples compiles a training graph that gives every example's own
// gradient instead of the batch's (persample.go), for differentially
// private training: each parameter's layer op computes them from its saved
// input and output gradient, as Opacus's grad samplers do.
//
// Initializers follow PyTorch's defaults: kaiming-uniform with a=√5 for
// Linear and convolution weights, U(−1/√fan_in, 1/√fan_in) for their biases,
// N(0, 1) for embeddings.
package graph
