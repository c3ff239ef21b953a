package kernel

// Max pooling over 2×2 windows with stride 2 (floor mode), one plane at a
// time, as a convolution block's pooling runs in training: the forward
// pass keeps each output's maximum and where it was, the backward pass
// puts each output's gradient back at that place. With AVX-512 the
// sixteen outputs of a vector are pooled together: the even and odd
// columns of two input rows are split apart with permutes, and the first
// maximum is kept with compares and blends, so each output gets the value
// and index the one-output-at-a-time loop gives it. At the other levels
// these functions do nothing and report it: the caller runs its Go loop.

// MaxPool2x2 pools the plane x (rows of w values, at least 2·oh of them)
// into the oh×ow outputs y, and writes in arg each output's index in x plus
// base: the first maximum of the window in the order (0,0), (0,1), (1,0),
// (1,1), or its first NaN when it has one. Where the window holds −0 and +0
// as its maximum the output is +0 (Go's max), at the index of the first of
// the two. It reports whether it did so (AVX-512 only); with oh or ow 0 it
// has nothing to do and reports true. w ≥ 2·ow.
func MaxPool2x2(y []float32, arg []int32, x []float32, base int32, w, oh, ow int) bool {
	if active < AVX512 {
		return false
	}
	if oh == 0 || ow == 0 {
		return true
	}
	_, _, _ = x[(2*oh-1)*w+2*ow-1], y[oh*ow-1], arg[oh*ow-1] // bounds, before the loop reads them unchecked
	out, in0, in1 := poolMasks(ow)
	maxPool2x2AVX512(&y[0], &arg[0], &x[0], int(base), w, oh, ow, ow/16, out, in0, in1)
	return true
}

// Unpool2x2 is MaxPool2x2's backward pass for one plane of h rows of w
// values: it writes all of gz (h·w values), 0 + g[o] at the place arg[o]
// − base of every output o (0 + g turns a −0 gradient into +0, as adding
// it into a cleared plane does) and 0 everywhere else. arg must hold, for
// each output, an index in its own window, as MaxPool2x2 writes them. It
// reports whether it did so (AVX-512 only; with nothing to do, true).
func Unpool2x2(gz, g []float32, arg []int32, base int32, w, h, oh, ow int) bool {
	if active < AVX512 {
		return false
	}
	gz = gz[:h*w]
	if oh == 0 || ow == 0 {
		clear(gz)
		return true
	}
	_, _, _ = gz[(2*oh-1)*w+2*ow-1], g[oh*ow-1], arg[oh*ow-1]
	out, in0, in1 := poolMasks(ow)
	unpool2x2AVX512(&gz[0], &g[0], &arg[0], int(base), w, oh, ow, ow/16, out, in0, in1)
	if w > 2*ow { // the column no window covers
		for r := 0; r < 2*oh; r++ {
			clear(gz[r*w+2*ow : (r+1)*w])
		}
	}
	clear(gz[2*oh*w:]) // the row no window covers
	return true
}

// poolMasks returns the masks of the last, partial vector of a row of ow
// outputs: its outputs, and its 2·(ow mod 16) inputs in each of two
// vectors (all 0 when ow is a multiple of 16).
func poolMasks(ow int) (out, in0, in1 uint64) {
	t := ow % 16
	in := uint64(1)<<(2*t) - 1
	return uint64(1)<<t - 1, in & 0xffff, in >> 16
}
