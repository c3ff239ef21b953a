package imagedata

// The resizing of commit fe918a7, which kept an h×dw intermediate: the
// streaming resize must give the same bits.

// refTaps are the filter weights of one axis: output i reads input
// start[i]..start[i]+count[i]-1 with weights w[i*stride:].
type refTaps struct {
	start, count []int
	w            []float32
	stride       int
}

// bilinear computes the refTaps of resizing in pixels to out, reusing
// t's buffers.
func (t *refTaps) bilinear(in, out int) {
	scale := float64(in) / float64(out)
	support, invscale := 1.0, 1.0
	if scale >= 1 {
		support, invscale = scale, 1/scale
	}
	t.stride = int(2*support) + 3
	t.start = refGrowInts(t.start, out)
	t.count = refGrowInts(t.count, out)
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

func refGrowInts(s []int, n int) []int {
	if cap(s) < n {
		return make([]int, n)
	}
	return s[:n]
}

// refScratch holds buffers reused across calls.
type refScratch struct {
	tmp    []float32
	in     []float32
	out    []float32
	tx, ty refTaps
}

func (s *refScratch) grow(buf *[]float32, n int) []float32 {
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	return (*buf)[:n]
}

// refResizeRegion resamples the h×w region at (y0, x0) of a plane with row
// stride `stride` into dst, dh×dw: rows first, then columns.
func refResizeRegion(dst []float32, dh, dw int, src []float32, stride, y0, x0, h, w int, s *refScratch) {
	s.tx.bilinear(w, dw)
	s.ty.bilinear(h, dh)
	refResizeWithTaps(dst, dh, dw, src, stride, y0, x0, h, w, s)
}

// refResizeWithTaps is refResizeRegion with s.tx and s.ty already computed, so
// the channels of one image share them.
func refResizeWithTaps(dst []float32, dh, dw int, src []float32, stride, y0, x0, h, w int, s *refScratch) {
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

// refResizeBytes resizes a c-channel CHW byte image, rounding back to bytes.
func refResizeBytes(dst []uint8, dh, dw int, src []uint8, c, sh, sw int, s *refScratch) {
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
		refResizeWithTaps(out, dh, dw, in, sw, 0, 0, sh, sw, s)
		for i, v := range out {
			dst[ch*dh*dw+i] = uint8(min(max(v+0.5, 0), 255))
		}
	}
}
