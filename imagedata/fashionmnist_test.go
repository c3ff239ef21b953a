package imagedata

import (
	"math"
	"os"
	"slices"
	"testing"
	"time"
)

// fashionMNISTDir is where Debian's dataset-fashion-mnist installs the data.
const fashionMNISTDir = "/usr/share/datasets/fashion-mnist"

func TestRealFashionMNIST(t *testing.T) {
	if _, err := os.Stat(fashionMNISTDir); err != nil {
		t.Skip("Fashion-MNIST not installed (Debian package dataset-fashion-mnist)")
	}
	start := time.Now()
	set, err := Load(fashionMNISTDir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("read 70,000 images in %v", time.Since(start))
	if !slices.Equal(set.Classes, FashionMNISTClasses) || set.Format != FormatIDX {
		t.Errorf("format %q classes %q", set.Format, set.Classes)
	}
	if c, h, w := set.Shape(); c != 1 || h != 28 || w != 28 {
		t.Errorf("shape %d×%d×%d", c, h, w)
	}
	// 6,000 per class in train (600 held out), 1,000 per class in test.
	for _, tt := range []struct {
		im   *Images
		each int
	}{{set.Train, 5400}, {set.Val, 600}, {set.Test, 1000}} {
		for c, n := range tt.im.Counts(10) {
			if n != tt.each {
				t.Errorf("class %d: %d images, want %d", c, n, tt.each)
			}
		}
	}
	// The published statistics are those of all 60,000 training images.
	mean, std := concatImages(set.Train, set.Val).MeanStd()
	known := KnownNormalization["fashion-mnist"]
	if math.Abs(mean[0]-known.Mean[0]) > 5e-5 || math.Abs(std[0]-known.Std[0]) > 5e-5 {
		t.Errorf("mean %.5f std %.5f, want %.4f %.4f", mean[0], std[0], known.Mean[0], known.Std[0])
	}
	// The test split is t10k as shipped: its first image is an ankle boot.
	if set.Test.Labels[0] != 9 || set.Test.Labels[1] != 2 {
		t.Errorf("first test labels %v, want [9 2] (Ankle boot, Pullover)", set.Test.Labels[:2])
	}
}

// BenchmarkLoadFashionMNIST reads and splits all 70,000 images.
func BenchmarkLoadFashionMNIST(b *testing.B) {
	if _, err := os.Stat(fashionMNISTDir); err != nil {
		b.Skip("Fashion-MNIST not installed")
	}
	for b.Loop() {
		if _, err := Load(fashionMNISTDir, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
