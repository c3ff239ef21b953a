package imagedata

import (
	"fmt"
)

// Dataset serves images to the trainer as a dataset.Dataset: one input of
// shape [C, H, W] (float32, through the pipeline) and a scalar target, the
// class index. Images stay bytes until Gather. When the pipeline has
// augmentations the dataset applies them, drawing from a generator seeded
// by (Seed, epoch, index), and implements train.EpochAware so the trainer
// sets the epoch: the same run, resumed or not, sees the same images.
type Dataset struct {
	Images   *Images
	Pipeline Pipeline
	Seed     uint64 // augmentation seed

	epoch int
	mean  []float32 // per channel, as float32 like torchvision's tensors
	std   []float32
	lut   [][256]float32 // per channel: a byte through ToTensor and Normalize
	aug   augmenter
}

// NewDataset serves images through a pipeline; the images must have the
// pipeline's shape (Images.Conform converts them). Use p.Eval() for
// validation and test sets.
func NewDataset(images *Images, p Pipeline, seed uint64) (*Dataset, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if images.C != p.Channels || images.H != p.Height || images.W != p.Width {
		return nil, fmt.Errorf("dataset: images are %d×%d×%d (C×H×W), the pipeline takes %d×%d×%d", images.C, images.H, images.W, p.Channels, p.Height, p.Width)
	}
	d := &Dataset{Images: images, Pipeline: p, Seed: seed, aug: augmenter{p: p}}
	for c := range p.Channels {
		d.mean = append(d.mean, float32(p.Mean[c]))
		d.std = append(d.std, float32(p.Std[c]))
		var lut [256]float32
		for v := range lut {
			lut[v] = (unitScale[v] - d.mean[c]) / d.std[c]
		}
		d.lut = append(d.lut, lut)
	}
	return d, nil
}

// Len is the number of images.
func (d *Dataset) Len() int { return d.Images.Len() }

// Shapes is [[C, H, W]] and a scalar target.
func (d *Dataset) Shapes() ([][]int, []int) { return [][]int{d.Pipeline.Shape()}, nil }

// SetEpoch selects the epoch whose augmentations Gather draws.
func (d *Dataset) SetEpoch(epoch int) { d.epoch = epoch }

// Gather writes the images at idx, preprocessed, into inputs[0] and their
// labels into targets. It is not safe for concurrent use (it reuses
// buffers), as the trainer does not need.
func (d *Dataset) Gather(idx []int, inputs [][]float32, targets []float32) error {
	n := d.Images.Size()
	if len(inputs) != 1 {
		return fmt.Errorf("dataset: %d input tensors, an image set has one", len(inputs))
	}
	dst, tgt := inputs[0], targets
	if len(dst) < len(idx)*n || len(tgt) < len(idx) {
		return fmt.Errorf("dataset: buffers hold %d images and %d targets, %d requested", len(dst)/n, len(tgt), len(idx))
	}
	for r, i := range idx {
		if i < 0 || i >= d.Len() {
			return fmt.Errorf("dataset: example %d out of range [0, %d)", i, d.Len())
		}
		x, px := dst[r*n:(r+1)*n], d.Images.Image(i)
		if len(d.Pipeline.Augment) == 0 {
			plane := n / d.Images.C
			for c, lut := range d.lut {
				for k, v := range px[c*plane : (c+1)*plane] {
					x[c*plane+k] = lut[v]
				}
			}
		} else {
			toFloat(x, px)
			rng := augRNG(d.Seed, d.epoch, i)
			d.aug.apply(x, &rng)
			normalize(x, d.mean, d.std)
		}
		tgt[r] = float32(d.Images.Labels[i])
	}
	return nil
}

// unitScale[v] is v/255 in float32, divided as torchvision's ToTensor
// divides (not multiplied by 1/255), so the values are bit-identical.
var unitScale = func() (t [256]float32) {
	for v := range t {
		t[v] = float32(v) / 255
	}
	return t
}()

// toFloat is ToTensor: bytes to [0, 1].
func toFloat(dst []float32, src []uint8) {
	for i, v := range src {
		dst[i] = unitScale[v]
	}
}

// normalize is Normalize: (x − mean) / std per channel, as torchvision
// computes it.
func normalize(x []float32, mean, std []float32) {
	plane := len(x) / len(mean)
	for c := range mean {
		m, s := mean[c], std[c]
		for i, v := range x[c*plane : (c+1)*plane] {
			x[c*plane+i] = (v - m) / s
		}
	}
}
