package imagedata

// Resizing is bilinear with antialiasing, as PIL's Image.resize(BILINEAR)
// and PyTorch's interpolate(mode="bilinear", align_corners=False,
// antialias=True) compute it: separable triangle filter whose support
// widens by the scale factor when shrinking, so a photo reduced to 28×28
// averages its pixels instead of sampling a few. When enlarging (every
// RandomResizedCrop, whose crop is never larger than its output) it is
// exactly plain bilinear interpolation with align_corners=False.
// testdata/resize_golden.json holds PyTorch's outputs for comparison.

// taps are the filter weights of one axis: output i reads input
// start[i]..start[i]+count[i]-1 with weights w[i*stride:].
type taps struct {
	start, count []int
	w            []float32
	stride       int
}

// bilinear computes the taps of resizing in pixels to out, reusing
// t's buffers.
func (t *taps) bilinear(in, out int) {
	scale := float64(in) / float64(out)
	support, invscale := 1.0, 1.0
	if scale >= 1 {
		support, invscale = scale, 1/scale
	}
	t.stride = int(2*support) + 3
	t.start = growInts(t.start, out)
	t.count = growInts(t.count, out)
	if cap(t.w) < out*t.stride {
		t.w = make([]float32, out*t.stride)
	}
	t.w = t.w[:out*t.stride]
	clear(t.w)
	for i := range out {
		center := scale * (float64(i) + 0.5)
		lo := max(int(center-support+0.5), 0)
		n := min(int(center+support+0.5), in) - lo
		n = min(n, t.stride)
		ws := t.w[i*t.stride : i*t.stride+n]
		var total float32
		for j := range n {
			x := (float64(j+lo) - center + 0.5) * invscale
			if x < 0 {
				x = -x
			}
			if x < 1 {
				ws[j] = float32(1 - x)
				total += ws[j]
			}
		}
		t.start[i], t.count[i] = lo, n
		if total != 0 {
			for j := range ws {
				ws[j] /= total
			}
		}
	}
}

func growInts(s []int, n int) []int {
	if cap(s) < n {
		return make([]int, n)
	}
	return s[:n]
}

// resizeScratch holds buffers reused across calls.
type resizeScratch struct {
	tmp    []float32
	in     []float32
	out    []float32
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
// the channels of one image share them.
func resizeWithTaps(dst []float32, dh, dw int, src []float32, stride, y0, x0, h, w int, s *resizeScratch) {
	tx, ty := &s.tx, &s.ty
	tmp := s.grow(&s.tmp, h*dw)
	for y := range h {
		row := src[(y0+y)*stride+x0 : (y0+y)*stride+x0+w]
		for x := range dw {
			ws := tx.w[x*tx.stride : x*tx.stride+tx.count[x]]
			in := row[tx.start[x] : tx.start[x]+tx.count[x]]
			var acc float32
			for k, v := range in {
				acc += v * ws[k]
			}
			tmp[y*dw+x] = acc
		}
	}
	for y := range dh {
		ws := ty.w[y*ty.stride : y*ty.stride+ty.count[y]]
		out := dst[y*dw : (y+1)*dw]
		clear(out)
		for k, wk := range ws {
			in := tmp[(ty.start[y]+k)*dw : (ty.start[y]+k+1)*dw]
			for x, v := range in {
				out[x] += v * wk
			}
		}
	}
}

// resizeBytes resizes a c-channel CHW byte image, rounding back to bytes.
func resizeBytes(dst []uint8, dh, dw int, src []uint8, c, sh, sw int, s *resizeScratch) {
	in := s.grow(&s.in, sh*sw)
	out := s.grow(&s.out, dh*dw)
	for ch := range c {
		for i, v := range src[ch*sh*sw : (ch+1)*sh*sw] {
			in[i] = float32(v)
		}
		if ch == 0 {
			s.tx.bilinear(sw, dw)
			s.ty.bilinear(sh, dh)
		}
		resizeWithTaps(out, dh, dw, in, sw, 0, 0, sh, sw, s)
		for i, v := range out {
			dst[ch*dh*dw+i] = uint8(min(max(v+0.5, 0), 255))
		}
	}
}
