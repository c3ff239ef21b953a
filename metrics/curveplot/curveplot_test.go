package curveplot

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"

	"github.com/tapeml/tapeml/metrics"
)

func testCurves(t *testing.T) []metrics.ClassCurves {
	t.Helper()
	// Two classes, imperfectly separated: the curves differ.
	probs := []float32{0.9, 0.1, 0.6, 0.4, 0.3, 0.7, 0.2, 0.8, 0.55, 0.45, 0.35, 0.65, 0.7, 0.3}
	labels := []int{0, 0, 1, 1, 0, 1, 1}
	curves, skipped, err := metrics.ClassifierCurves(probs, labels, []string{"ham", "spam"}, []int{0, 1})
	if err != nil || len(skipped) > 0 {
		t.Fatal(err, skipped)
	}
	return curves
}

// count counts the pixels of img within a small distance of color c
// (lines are anti-aliased).
func count(img image.Image, c color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			p := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			if d := absDiff(p.R, c.R) + absDiff(p.G, c.G) + absDiff(p.B, c.B); d < 60 {
				n++
			}
		}
	}
	return n
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func TestPNGs(t *testing.T) {
	curves := testCurves(t)
	for name, draw := range map[string]func(*bytes.Buffer, []metrics.ClassCurves) error{
		"roc": func(b *bytes.Buffer, c []metrics.ClassCurves) error { return ROCPNG(b, "ROC: test", c) },
		"pr":  func(b *bytes.Buffer, c []metrics.ClassCurves) error { return PRPNG(b, "precision-recall: test", c) },
	} {
		t.Run(name, func(t *testing.T) {
			var one, two bytes.Buffer
			if err := draw(&one, curves); err != nil {
				t.Fatal(err)
			}
			if err := draw(&two, curves); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(one.Bytes(), two.Bytes()) {
				t.Error("the same curves drew different images")
			}
			img, err := png.Decode(&one)
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != 576 || b.Dy() != 480 {
				t.Errorf("image %v, want 576×480", b)
			}
			// Both classes' lines are drawn in their colors, and text
			// (black) is there: title, axis labels, ticks, legend.
			for i := range curves {
				if n := count(img, palette[i]); n < 300 {
					t.Errorf("class %d: %d pixels of its color", i, n)
				}
			}
			// The title is the only thing in the top rows.
			title := img.(interface {
				SubImage(image.Rectangle) image.Image
			}).SubImage(image.Rect(0, 0, 576, 20))
			if n := count(title, color.RGBA{0, 0, 0, 255}); n < 40 {
				t.Errorf("%d black pixels in the title's rows: no title?", n)
			}
		})
	}
	// A curve that cannot be drawn is an error, not a broken image.
	bad := []metrics.ClassCurves{{Class: "x", ROC: metrics.ROC{FPR: []float64{0, nan()}, TPR: []float64{0, 1}}}}
	if err := ROCPNG(&bytes.Buffer{}, "t", bad); err == nil {
		t.Error("a NaN point was drawn")
	}
}

func nan() float64 { var z float64; return z / z }
