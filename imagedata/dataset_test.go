package imagedata

import (
	"slices"
	"testing"

	"github.com/tapeml/tapeml/dataset"
)

var _ dataset.Dataset = (*Dataset)(nil)

// stripes is n c×h×w images, image i filled with byte 10i+c per channel,
// label i%3.
func stripes(n, c, h, w int) *Images {
	im := &Images{C: c, H: h, W: w, Pixels: make([]uint8, n*c*h*w), Labels: make([]int, n)}
	for i := range n {
		for ch := range c {
			for k := range h * w {
				im.Pixels[(i*c+ch)*h*w+k] = uint8(10*i + ch + k%2)
			}
		}
		im.Labels[i] = i % 3
	}
	return im
}

func batchTensors(n int, shape []int) ([][]float32, []float32) {
	size := n
	for _, d := range shape {
		size *= d
	}
	return [][]float32{make([]float32, size)}, make([]float32, n)
}

func TestDatasetGather(t *testing.T) {
	im := stripes(5, 3, 2, 2)
	p, err := NewPipeline(3, 2, 2, nil, []float64{0.5, 0.25, 0}, []float64{0.5, 0.25, 2})
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDataset(im, p, 1)
	if err != nil {
		t.Fatal(err)
	}
	inShapes, tShape := d.Shapes()
	if d.Len() != 5 || !slices.Equal(inShapes[0], []int{3, 2, 2}) || len(inShapes) != 1 || len(tShape) != 0 {
		t.Fatalf("Len %d Shapes %v %v", d.Len(), inShapes, tShape)
	}
	inputs, targets := batchTensors(2, inShapes[0])
	if err := d.Gather([]int{4, 1}, inputs, targets); err != nil {
		t.Fatal(err)
	}
	x := inputs[0]
	for r, i := range []int{4, 1} {
		for k := range 12 {
			v := float32(im.Image(i)[k]) / 255
			c := k / 4
			want := (v - float32(p.Mean[c])) / float32(p.Std[c])
			if x[r*12+k] != want {
				t.Fatalf("example %d value %d = %g, want %g", i, k, x[r*12+k], want)
			}
		}
	}
	if got := targets; !slices.Equal(got, []float32{1, 1}) {
		t.Errorf("targets %v, want [1 1]", got)
	}
	for _, tt := range []struct {
		idx  []int
		n    int
		want string
	}{
		{[]int{5}, 1, "dataset: example 5 out of range [0, 5)"},
		{[]int{-1}, 1, "out of range"},
		{[]int{0, 1, 2}, 2, "buffers hold 2 images and 2 targets, 3 requested"},
	} {
		inputs, targets := batchTensors(tt.n, inShapes[0])
		checkError(t, d.Gather(tt.idx, inputs, targets), "", tt.want)
	}
	if _, err := NewDataset(im, Pipeline{Channels: 1, Height: 2, Width: 2, Mean: []float64{0}, Std: []float64{1}}, 0); err == nil {
		t.Error("3-channel images accepted by a 1-channel pipeline")
	}
}

func TestDatasetAugmentsPerEpoch(t *testing.T) {
	im := &Images{C: 1, H: 8, W: 8, Labels: make([]int, 4)}
	for i := range 4 * 64 {
		im.Pixels = append(im.Pixels, uint8(i*7))
	}
	augment, _ := ParseAugment("resized-crop,flip")
	p, err := NewPipeline(1, 8, 8, augment, []float64{0}, []float64{1})
	if err != nil {
		t.Fatal(err)
	}
	gather := func(d *Dataset, idx ...int) [][]float32 {
		inputs, targets := batchTensors(len(idx), []int{1, 8, 8})
		if err := d.Gather(idx, inputs, targets); err != nil {
			t.Fatal(err)
		}
		var out [][]float32
		for r := range idx {
			out = append(out, slices.Clone(inputs[0][r*64:(r+1)*64]))
		}
		return out
	}
	d, _ := NewDataset(im, p, 7)
	e0 := gather(d, 0, 1, 2, 3)
	// The batch an example is drawn in does not matter; the epoch does.
	if again := gather(d, 3, 2); !slices.Equal(again[0], e0[3]) || !slices.Equal(again[1], e0[2]) {
		t.Error("an example's augmentation depends on its batch")
	}
	d.SetEpoch(1)
	e1 := gather(d, 0, 1, 2, 3)
	same := 0
	for i := range e0 {
		if slices.Equal(e0[i], e1[i]) {
			same++
		}
	}
	if same > 1 {
		t.Errorf("%d of 4 images unchanged from epoch 0 to 1", same)
	}
	// A fresh dataset (a resumed run) at epoch 1 sees epoch 1's images.
	resumed, _ := NewDataset(im, p, 7)
	resumed.SetEpoch(1)
	if r := gather(resumed, 0, 1, 2, 3); !slices.EqualFunc(r, e1, slices.Equal) {
		t.Error("a resumed run sees different images")
	}
	// The evaluation pipeline does not augment.
	eval, _ := NewDataset(im, p.Eval(), 7)
	eval.SetEpoch(5)
	for i, x := range gather(eval, 0, 1) {
		for k, v := range x {
			if v != float32(im.Image(i)[k])/255 {
				t.Fatalf("eval pipeline changed image %d", i)
			}
		}
	}
}

// BenchmarkGather measures a batch of 32 CIFAR-sized images through the
// training pipeline; a training step of the reference ConvNet takes ~25 ms.
func BenchmarkGather(b *testing.B) {
	im := stripes(1000, 3, 32, 32)
	for _, list := range []string{"none", "crop,flip", "resized-crop,flip"} {
		b.Run(list, func(b *testing.B) {
			augment, _ := ParseAugment(list)
			p, _ := NewPipeline(3, 32, 32, augment, []float64{0.5, 0.5, 0.5}, []float64{0.25, 0.25, 0.25})
			d, _ := NewDataset(im, p, 1)
			inputs, targets := batchTensors(32, []int{3, 32, 32})
			idx := make([]int, 32)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				for k := range idx {
					idx[k] = (i*32 + k) % im.Len()
				}
				if err := d.Gather(idx, inputs, targets); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
