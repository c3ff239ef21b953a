package imagedata

// Resizing is bilinear with antialiasing, as PIL's Image.resize(BILINEAR)
// and PyTorch's interpolate(mode="bilinear", align_corners=False,
// antialias=True) compute it: separable triangle filter whose support
// widens by the scale factor when shrinking, so a photo reduced to 28×28
// averages its pixels instead of sampling a few. When enlarging (every
// RandomResizedCrop, whose crop is never larger than its output) it is
// exactly plain bilinear interpolation with align_corners=False.
// testdata/resize_golden.json holds PyTorch's outputs for comparison.
//
// Memory is bounded by the output, not the input: rows are resampled one
// at a time and added into the output rows that read them, so a tall
// 1×16,777,216 image needs one resampled row, not a 16,777,216-row
// intermediate; the filter weights of an axis are kept in a table only
// while it is small (maxTapWeights), else computed as they are used.

// maxTapWeights bounds the weight table of one axis (4 MiB of float32; a
// variable for tests).
// Beyond it an axis is so long that computing each window's weights where
// they are used costs little beside the filtering itself.
var maxTapWeights = 1 << 20

// taps are the filter weights of one axis: output i reads input
// start[i]..start[i]+count[i]-1, with weights w[off[i]:off[i]+count[i]]
// when the table is kept (w != nil), else as window computes them.
type taps struct {
	start, count, off  []int
	w                  []float32
	lazy               bool
	scale, support, iv float64
}

// bilinear computes the taps of resizing in pixels to out, reusing
// t's buffers.
func (t *taps) bilinear(in, out int) {
	t.scale = float64(in) / float64(out)
	t.support, t.iv = 1.0, 1.0
	if t.scale >= 1 {
		t.support, t.iv = t.scale, 1/t.scale
	}
	t.start = growInts(t.start, out)
	t.count = growInts(t.count, out)
	t.off = growInts(t.off, out)
	total := 0
	for i := range out {
		center := t.scale * (float64(i) + 0.5)
		lo := max(int(center-t.support+0.5), 0)
		// The window is at most 2·support+1 wide.
		n := min(int(center+t.support+0.5), in) - lo
		t.start[i], t.count[i], t.off[i] = lo, n, total
		total += n
	}
	t.lazy = total > maxTapWeights
	if t.lazy {
		t.w = t.w[:0]
		return
	}
	if cap(t.w) < total {
		t.w = make([]float32, total)
	}
	t.w = t.w[:total]
	for i := range out {
		t.window(i, t.w[t.off[i]:t.off[i]+t.count[i]])
	}
}

// window computes output i's normalized weights into ws (count[i] long).
func (t *taps) window(i int, ws []float32) {
	center := t.scale * (float64(i) + 0.5)
	lo := t.start[i]
	var total float32
	for j := range ws {
		ws[j] = 0
		x := (float64(j+lo) - center + 0.5) * t.iv
		if x < 0 {
			x = -x
		}
		if x < 1 {
			ws[j] = float32(1 - x)
			total += ws[j]
		}
	}
	if total != 0 {
		for j := range ws {
			ws[j] /= total
		}
	}
}

// weights returns output i's weights: the table's, or computed into buf.
func (t *taps) weights(i int, buf *[]float32) []float32 {
	if !t.lazy {
		return t.w[t.off[i] : t.off[i]+t.count[i]]
	}
	if cap(*buf) < t.count[i] {
		*buf = make([]float32, t.count[i])
	}
	ws := (*buf)[:t.count[i]]
	t.window(i, ws)
	return ws
}

func growInts(s []int, n int) []int {
	if cap(s) < n {
		return make([]int, n)
	}
	return s[:n]
}

// resizeScratch holds buffers reused across calls.
type resizeScratch struct {
	row    []float32   // one input row resampled to the output width
	out    []float32   // resizeBytes' output plane
	wbuf   []float32   // a window's weights, when computed as used
	active [][]float32 // the weights of the vertical windows in use, when computed as used
	free   [][]float32 // buffers of retired windows, for the next ones
	tx, ty taps
}

func (s *resizeScratch) grow(buf *[]float32, n int) []float32 {
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	return (*buf)[:n]
}

// resizeRegion resamples the h×w region at (y0, x0) of a plane with row
// stride `stride` into dst, dh×dw: rows first, then columns.
func resizeRegion(dst []float32, dh, dw int, src []float32, stride, y0, x0, h, w int, s *resizeScratch) {
	s.tx.bilinear(w, dw)
	s.ty.bilinear(h, dh)
	resizeWithTaps(dst, dh, dw, src, stride, y0, x0, h, w, s)
}

// resizeWithTaps is resizeRegion with s.tx and s.ty already computed, so
// the channels of one image share them. Each input row is resampled to
// the output width, then added, weighted, into the output rows whose
// windows hold it: every output value sums the same products in the same
// order as a pass over a whole h×dw intermediate would, so the results
// are the same to the bit.
func resizeWithTaps[T uint8 | float32](dst []float32, dh, dw int, src []T, stride, y0, x0, h, w int, s *resizeScratch) {
	tx, ty := &s.tx, &s.ty
	row := s.grow(&s.row, dw)
	dst = dst[:dh*dw]
	clear(dst)
	// Output rows first..last-1 have windows that may hold row y; the
	// windows' starts and ends never decrease.
	first, last := 0, 0
	for y := range h {
		for first < dh && ty.start[first]+ty.count[first] <= y {
			first++
		}
		for last < dh && ty.start[last] <= y {
			if ty.lazy { // the window's weights, kept while it is active
				var buf []float32
				if n := len(s.free); n > 0 {
					buf, s.free = s.free[n-1], s.free[:n-1]
				}
				s.active = append(s.active, ty.weights(last, &buf))
			}
			last++
		}
		if ty.lazy {
			// s.active holds windows last-len(s.active)..last-1.
			for len(s.active) > last-first {
				s.free = append(s.free, s.active[0])
				s.active[0] = nil
				s.active = s.active[1:]
			}
		}
		if first == last {
			continue // no output row reads input row y
		}
		in := src[(y0+y)*stride+x0 : (y0+y)*stride+x0+w]
		for x := range dw {
			ws := tx.weights(x, &s.wbuf)
			var acc float32
			for k, v := range in[tx.start[x] : tx.start[x]+len(ws)] {
				acc += float32(v) * ws[k]
			}
			row[x] = acc
		}
		for oy := first; oy < last; oy++ {
			k := y - ty.start[oy]
			if k >= ty.count[oy] {
				continue
			}
			var wk float32
			if ty.lazy {
				wk = s.active[oy-(last-len(s.active))][k]
			} else {
				wk = ty.w[ty.off[oy]+k]
			}
			out := dst[oy*dw : (oy+1)*dw]
			for x, v := range row {
				out[x] += v * wk
			}
		}
	}
	for i := range s.active {
		s.active[i] = nil
	}
	s.active, s.free = s.active[:0], s.free[:0]
}

// resizeBytes resizes a c-channel CHW byte image, rounding back to bytes.
func resizeBytes(dst []uint8, dh, dw int, src []uint8, c, sh, sw int, s *resizeScratch) {
	out := s.grow(&s.out, dh*dw)
	s.tx.bilinear(sw, dw)
	s.ty.bilinear(sh, dh)
	for ch := range c {
		resizeWithTaps(out, dh, dw, src[ch*sh*sw:(ch+1)*sh*sw], sw, 0, 0, sh, sw, s)
		for i, v := range out {
			dst[ch*dh*dw+i] = uint8(min(max(v+0.5, 0), 255))
		}
	}
}
