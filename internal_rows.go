package tapeml

import "gorgonia.org/tensor"

// denseRows views n rows of k values as an [n, k] tensor.
func denseRows(v []float32, n, k int) *tensor.Dense {
	return tensor.New(tensor.WithShape(n, k), tensor.WithBacking(v))
}
