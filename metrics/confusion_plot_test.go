package metrics

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
)

func TestPlotConfusionPNG(t *testing.T) {
	m := Confusion{{5, 1, 0}, {2, 7, 1}, {0, 0, 9}}
	var buf bytes.Buffer
	if err := PlotConfusionPNG(m, []string{"cat", "dog", "bird"}, &buf); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() < 3*44 || b.Dy() < 3*44 {
		t.Fatalf("image %v too small for 3 classes", b)
	}
	if err := PlotConfusionPNG(m, []string{"cat"}, &buf); err == nil {
		t.Fatal("want an error for too few class names")
	}
	text := m.Format([]string{"cat", "dog", "bird"})
	if !strings.Contains(strings.Join(strings.Fields(text), " "), "dog 1 2 7 1 bird 2 0 0 9") {
		t.Fatalf("format:\n%s", text)
	}
}
