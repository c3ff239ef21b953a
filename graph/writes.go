package graph

// The tape zeroes a kernel's output before forward and a gradient before
// backward, because most kernels accumulate into them. Kernels that write
// every element say so here, which saves a pass over the memory: for the
// large weight gradients of Linear and the convolutions, the size of the
// weights on every step.

// fullWriter is implemented by kernels that write every element of their
// output (wrt < 0) or of the gradient with respect to input wrt, whatever
// the buffer held before.
type fullWriter interface{ writesAll(wrt int) bool }

// writesAll reports whether k overwrites all of its output (wrt < 0) or of
// its gradient with respect to input wrt.
func writesAll(k kernel, wrt int) bool {
	w, ok := k.(fullWriter)
	return ok && w.writesAll(wrt)
}

// Every activation writes y and d element by element.
func (*activationKernel[T]) writesAll(int) bool { return true }

// The products write with beta 0 (or over the bias copied into y); the
// bias gradient accumulates over the batch.
func (linearKernel[T]) writesAll(wrt int) bool { return wrt < 2 }

func (*dropoutKernel[T]) writesAll(int) bool { return true }

func (swapAxesKernel[T]) writesAll(int) bool { return true }

// Embedding copies a row per token; its gradient is a scatter-add, which
// clears the rows it wrote last time itself when Compile found it sparse.
func (k embeddingKernel[T]) writesAll(wrt int) bool {
	return wrt < 0 || wrt == 1 && k.rows != nil && k.rows.sparse
}

// Pooling writes each window's maximum; its gradient is a scatter-add.
func (*maxPool1DKernel[T]) writesAll(wrt int) bool { return wrt < 0 }

// Without overlapping windows MaxPool2D's gradient clears each plane
// before its scatter-add.
func (k *maxPool2DKernel[T]) writesAll(wrt int) bool { return wrt < 0 || k.stride >= k.size }

// The convolutions write y per example (bias then the product with beta 1,
// or beta 0) and the weight gradient as the first chunk's partial sum plus
// the others; the input gradient is a col2im scatter-add and the bias
// gradient a sum.
func (*conv1dKernel[T]) writesAll(wrt int) bool { return wrt < 0 || wrt == 1 }

func (*conv2dKernel[T]) writesAll(wrt int) bool { return wrt < 0 || wrt == 1 }

// BatchNorm writes y, dx, dγ and dβ element by element.
func (*batchNormKernel[T]) writesAll(int) bool { return true }

// The LSTM layer's weight gradients are products with beta 0 (or cleared
// when the whole batch is padding); its input gradient skips padded steps
// and its biases' gradients are sums.
func (k *lstmLayerKernel[T]) writesAll(wrt int) bool {
	p := wrt - k.paramBase()
	return wrt >= 0 && p >= 0 && p%4 < 2
}

// LSTMRows copies whole rows out; its gradient fills only those rows.
func (lstmRowsKernel[T]) writesAll(wrt int) bool { return wrt < 0 }
