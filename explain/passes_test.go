package explain

import "testing"

// TestPassesCountsOcclusionWindows checks Passes' count of occlusion
// windows against the loop that makes them.
func TestPassesCountsOcclusionWindows(t *testing.T) {
	for _, c := range []struct{ h, w, win, stride, want int }{
		{8, 8, 0, 0, 1 + 7*7}, // window 2, stride 1
		{32, 32, 0, 0, 1 + 15*15},
		{28, 28, 28, 1, 2},
		{10, 7, 3, 2, 1 + 5*3}, // y0: 0 2 4 6 7; x0: 0 2 4
	} {
		win, stride := occlusionWindow(c.h, c.w, Options{Window: c.win, Stride: c.stride})
		ny, nx := 0, 0
		for y0 := 0; ; y0 += stride { // the loop explainNormalized runs
			y0 = min(y0, c.h-win)
			ny++
			if y0+win >= c.h {
				break
			}
		}
		for x0 := 0; ; x0 += stride {
			x0 = min(x0, c.w-win)
			nx++
			if x0+win >= c.w {
				break
			}
		}
		gy, gx := (c.h-win+stride-1)/stride+1, (c.w-win+stride-1)/stride+1
		if gy != ny || gx != nx || 1+ny*nx != c.want {
			t.Errorf("%d×%d window %d stride %d: Passes counts %d×%d windows, the loop %d×%d, want %d rows", c.h, c.w, c.win, c.stride, gy, gx, ny, nx, c.want)
		}
	}
}
