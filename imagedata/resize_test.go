package imagedata

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// TestResizeMatchesPyTorch compares with interpolate(mode="bilinear",
// align_corners=False): antialiased always, and plain when enlarging (every
// RandomResizedCrop), where the two must agree.
func TestResizeMatchesPyTorch(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "resize_golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Cases []struct {
			Shape  [3]int
			Input  []float32
			Crop   *[4]int
			Size   [2]int
			Output []float32
			Plain  []float32
		}
	}
	if err := json.Unmarshal(b, &golden); err != nil {
		t.Fatal(err)
	}
	if len(golden.Cases) == 0 {
		t.Fatal("no cases")
	}
	for k, tc := range golden.Cases {
		c, h, w := tc.Shape[0], tc.Shape[1], tc.Shape[2]
		top, left, ch, cw := 0, 0, h, w
		if tc.Crop != nil {
			top, left, ch, cw = tc.Crop[0], tc.Crop[1], tc.Crop[2], tc.Crop[3]
		}
		oh, ow := tc.Size[0], tc.Size[1]
		got := make([]float32, c*oh*ow)
		var s resizeScratch
		for i := range c {
			resizeRegion(got[i*oh*ow:(i+1)*oh*ow], oh, ow, tc.Input[i*h*w:(i+1)*h*w], w, top, left, ch, cw, &s)
		}
		enlarging := oh >= ch && ow >= cw
		for i := range got {
			if d := math.Abs(float64(got[i] - tc.Output[i])); d > 2e-6 {
				t.Fatalf("case %d (%v crop %v → %v): output[%d] = %g, PyTorch %g", k, tc.Shape, tc.Crop, tc.Size, i, got[i], tc.Output[i])
			}
			if d := math.Abs(float64(got[i] - tc.Plain[i])); enlarging && d > 2e-6 {
				t.Fatalf("case %d: enlarging, output[%d] = %g, plain bilinear %g", k, i, got[i], tc.Plain[i])
			}
		}
	}
}

func TestResizeBytes(t *testing.T) {
	// Same size is the identity; a constant image stays constant.
	src := []uint8{0, 10, 200, 255, 7, 9}
	dst := make([]uint8, 6)
	var s resizeScratch
	resizeBytes(dst, 2, 3, src, 1, 2, 3, &s)
	for i := range src {
		if dst[i] != src[i] {
			t.Fatalf("identity resize: %v, want %v", dst, src)
		}
	}
	flat := make([]uint8, 3*40*30)
	for i := range flat {
		flat[i] = uint8(100 + i/(40*30)) // 100, 101, 102 per channel
	}
	out := make([]uint8, 3*7*9)
	resizeBytes(out, 7, 9, flat, 3, 40, 30, &s)
	for i, v := range out {
		if want := uint8(100 + i/(7*9)); v != want {
			t.Fatalf("constant image: pixel %d = %d, want %d", i, v, want)
		}
	}
}
