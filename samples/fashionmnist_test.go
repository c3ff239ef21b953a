package samples

import (
	"io/fs"
	"math"
	"slices"
	"testing"

	"github.com/tapeml/tapeml/imagedata"
)

func TestFashionMNIST(t *testing.T) {
	total := 0
	fs.WalkDir(fashionMNISTFiles, ".", func(_ string, d fs.DirEntry, _ error) error {
		if info, err := d.Info(); err == nil && !d.IsDir() {
			total += int(info.Size())
		}
		return nil
	})
	if total > 5<<20 {
		t.Errorf("embedded sample is %d bytes, want under 5 MiB", total)
	}
	set, err := FashionMNIST(imagedata.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(set.Classes, imagedata.FashionMNISTClasses) || set.Format != imagedata.FormatIDX {
		t.Fatalf("format %q classes %q", set.Format, set.Classes)
	}
	if c, h, w := set.Shape(); c != 1 || h != 28 || w != 28 {
		t.Errorf("shape %d×%d×%d, want 1×28×28", c, h, w)
	}
	for _, tt := range []struct {
		name string
		im   *imagedata.Images
		each int
	}{{"train", set.Train, 360}, {"val", set.Val, 40}, {"test", set.Test, 100}} {
		for c, n := range tt.im.Counts(10) {
			if n != tt.each {
				t.Errorf("%s: class %d has %d images, want %d", tt.name, c, n, tt.each)
			}
		}
	}
	// A fair sample of Fashion-MNIST looks like it: the full training
	// set's mean and deviation are 0.2860 and 0.3530.
	mean, std := set.Train.MeanStd()
	if math.Abs(mean[0]-0.2860) > 0.01 || math.Abs(std[0]-0.3530) > 0.01 {
		t.Errorf("mean %.4f std %.4f, want about 0.2860 and 0.3530", mean[0], std[0])
	}
	other, err := FashionMNIST(imagedata.Options{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(other.Val.Pixels, set.Val.Pixels) || !slices.Equal(other.Test.Pixels, set.Test.Pixels) {
		t.Error("seed 3 should change the validation split and keep the shipped test split")
	}
}
