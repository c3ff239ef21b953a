package imagedata

import (
	"bytes"
	"encoding/json"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
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

// TestResizeSameBits checks the streaming resize against the one that
// kept a whole h×dw intermediate: the same bits, shrinking and enlarging,
// from regions and whole planes, with weight tables kept and computed as
// used.
func TestResizeSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	defer func(v int) { maxTapWeights = v }(maxTapWeights)
	for _, table := range []int{1 << 20, 0, 7} {
		maxTapWeights = table
		for range 60 {
			h, w := 1+rng.IntN(90), 1+rng.IntN(90)
			dh, dw := 1+rng.IntN(40), 1+rng.IntN(40)
			y0, x0 := rng.IntN(4), rng.IntN(4)
			stride := x0 + w + rng.IntN(3)
			src := make([]float32, (y0+h)*stride)
			for i := range src {
				src[i] = rng.Float32() * 255
			}
			got, want := make([]float32, dh*dw), make([]float32, dh*dw)
			var s resizeScratch
			var r refScratch
			resizeRegion(got, dh, dw, src, stride, y0, x0, h, w, &s)
			refResizeRegion(want, dh, dw, src, stride, y0, x0, h, w, &r)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("table %d, %d×%d at (%d,%d) → %d×%d: [%d] = %v, before %v", table, h, w, y0, x0, dh, dw, i, got[i], want[i])
				}
			}
			c := 1 + 2*rng.IntN(2)
			px := make([]uint8, c*h*w)
			for i := range px {
				px[i] = uint8(rng.IntN(256))
			}
			gb, wb := make([]uint8, c*dh*dw), make([]uint8, c*dh*dw)
			resizeBytes(gb, dh, dw, px, c, h, w, &s)
			refResizeBytes(wb, dh, dw, px, c, h, w, &r)
			if !bytes.Equal(gb, wb) {
				t.Fatalf("table %d: bytes %d×%d×%d → %d×%d differ", table, c, h, w, dh, dw)
			}
		}
	}
}

// TestResizeTallImageMemory resizes a 1×300,000 image to 28×28: the
// intermediate used to be 300,000×28 floats (34 MB); now the scratch is
// bounded by the output and the active windows.
func TestResizeTallImageMemory(t *testing.T) {
	const h = 300_000
	src := make([]uint8, h)
	for i := range src {
		src[i] = uint8(i * 7)
	}
	dst := make([]uint8, 28*28)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	resizeBytes(dst, 28, 28, src, 1, h, 1, &resizeScratch{})
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 4<<20 {
		t.Errorf("resizing a 1×%d image allocated %d bytes, want under 4 MiB", h, got)
	}
	// And wide: 1,000,000×1.
	runtime.ReadMemStats(&before)
	resizeBytes(dst, 28, 28, src, 1, 1, h, &resizeScratch{})
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 4<<20 {
		t.Errorf("resizing a %d×1 image allocated %d bytes, want under 4 MiB", h, got)
	}
}

// TestPreprocessGrayForRGB: a gray image for a 3-channel model is resized
// once and repeated, with the same bits as resizing three copies.
func TestPreprocessGrayForRGB(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 37, 23))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 13)
	}
	p, err := NewPipeline(3, 16, 16, nil, []float64{0.4, 0.5, 0.6}, []float64{0.2, 0.3, 0.25})
	if err != nil {
		t.Fatal(err)
	}
	got, info, err := preprocess(img, p)
	if err != nil || !info.Resized || info.Channels != 1 {
		t.Fatalf("%v %+v", err, info)
	}
	three, _ := convertChannels(img.Pix, 1, 3, 23, 37)
	resized := make([]uint8, 3*16*16)
	resizeBytes(resized, 16, 16, three, 3, 23, 37, &resizeScratch{})
	want := make([]float32, len(resized))
	toFloat(want, resized)
	normalize(want, []float32{0.4, 0.5, 0.6}, []float32{0.2, 0.3, 0.25})
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("value %d: %v, resizing three planes gives %v", i, got[i], want[i])
		}
	}
}
