package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/tapeml/tapeml/imagedata"
)

// synthetic is n 1×2×2 images whose first pixel is their index, labels i%3.
func synthetic(n int) *imagedata.Images {
	im := &imagedata.Images{C: 1, H: 2, W: 2}
	for i := range n {
		im.Pixels = append(im.Pixels, byte(i), 0, 0, 0)
		im.Labels = append(im.Labels, i%3)
	}
	return im
}

func TestSampleImages(t *testing.T) {
	im := synthetic(90)
	sample, err := sampleImages(im, 30, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := sample.Counts(3); !slices.Equal(got, []int{10, 10, 10}) {
		t.Errorf("per class %v, want [10 10 10]", got)
	}
	var order []int
	for i := range sample.Len() {
		idx := int(sample.Image(i)[0])
		if idx%3 != sample.Labels[i] {
			t.Errorf("image %d has label %d", idx, sample.Labels[i])
		}
		order = append(order, idx)
	}
	if !slices.IsSorted(order) {
		t.Errorf("sample not in original order: %v", order)
	}
	again, _ := sampleImages(im, 30, 1)
	other, _ := sampleImages(im, 30, 2)
	if !reflect.DeepEqual(again, sample) || reflect.DeepEqual(other, sample) {
		t.Error("sample does not depend on the seed alone")
	}
	if _, err := sampleImages(im, 91, 1); err == nil {
		t.Error("sample larger than the split accepted")
	}
}

func TestWriteSplitReproducible(t *testing.T) {
	dir := t.TempDir()
	im := synthetic(12)
	var outputs [][]byte
	for k := range 2 {
		images, labels := filepath.Join(dir, "i"+string(rune('0'+k))), filepath.Join(dir, "l"+string(rune('0'+k)))
		if err := writeSplit(images, labels, im); err != nil {
			t.Fatal(err)
		}
		back, err := readSplit(images, labels)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, im) {
			t.Fatalf("read back %+v, want %+v", back, im)
		}
		b, _ := os.ReadFile(images)
		outputs = append(outputs, b)
	}
	if !bytes.Equal(outputs[0], outputs[1]) {
		t.Error("two writes of one sample differ")
	}
}
