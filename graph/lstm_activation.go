package graph

import (
	"math"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// The gate nonlinearities are the LSTM's only transcendental functions and,
// once the matrix products are fast, a visible share of its time. float64
// (gradient checks, parity tests) uses the math package; float32 uses the
// vectorized rational approximations of package kernel.

// lstmActivateGates applies σ to the i, f and o blocks and tanh to the g
// block of one row of pre-activations [i f g o], each h wide, in place.
func lstmActivateGates[T float](g []T, h int) {
	switch g := any(g).(type) {
	case []float32:
		kern.Sigmoid(g[:2*h], g[:2*h])
		kern.Tanh(g[2*h:3*h], g[2*h:3*h])
		kern.Sigmoid(g[3*h:4*h], g[3*h:4*h])
	case []float64:
		for j, v := range g[:2*h] {
			g[j] = sigmoidOf(v)
		}
		for j, v := range g[2*h : 3*h] {
			g[2*h+j] = math.Tanh(v)
		}
		for j, v := range g[3*h : 4*h] {
			g[3*h+j] = sigmoidOf(v)
		}
	}
}

// lstmTanh writes tanh(src) to dst.
func lstmTanh[T float](dst, src []T) {
	switch d := any(dst).(type) {
	case []float32:
		kern.Tanh(d, any(src).([]float32)[:len(d)])
	case []float64:
		s := any(src).([]float64)
		for j, v := range s[:len(d)] {
			d[j] = math.Tanh(v)
		}
	}
}
