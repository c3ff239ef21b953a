package imagedata

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/tapeml/tapeml/dataset"
)

// Augmentation op names, as in Augment.Op.
const (
	OpRandomResizedCrop    = "random_resized_crop"
	OpRandomCrop           = "random_crop"
	OpRandomHorizontalFlip = "random_horizontal_flip"
)

// Augment is one random training-time transform, as torchvision defines
// it. Every output has the pipeline's input size.
type Augment struct {
	Op string `json:"op"` // one of the Op* constants

	// Scale and Ratio bound RandomResizedCrop's crop: its area as a share
	// of the image, uniform in Scale (default [0.08, 1]), and its aspect
	// ratio width/height, log-uniform in Ratio (default [3/4, 4/3]). The
	// crop is resized to the input size, bilinearly.
	Scale *[2]float64 `json:"scale,omitempty"`
	Ratio *[2]float64 `json:"ratio,omitempty"`

	// Padding is RandomCrop's zero padding on every side before a crop of
	// the input size is taken at a uniform offset. Default (0 in
	// ParseAugment's output, resolved by NewPipeline): an eighth of the
	// smaller side, rounded: 4 for 28×28 and 32×32.
	Padding int `json:"padding,omitempty"`

	// P is RandomHorizontalFlip's probability of flipping. Default 0.5.
	P *float64 `json:"p,omitempty"`
}

// Pipeline turns stored images into model inputs: augmentations (training
// only) on the image scaled to [0, 1] in CHW order, as torchvision's
// ToTensor gives it, then Normalize(Mean, Std) per channel. It is
// JSON-serialisable so a checkpoint can carry its evaluation pipeline
// (Eval) and predict preprocesses exactly as evaluation did:
//
//	{"channels":1,"height":28,"width":28,
//	 "augment":[{"op":"random_crop","padding":4},{"op":"random_horizontal_flip","p":0.5}],
//	 "mean":[0.286],"std":[0.353]}
type Pipeline struct {
	Channels int       `json:"channels"` // model input: 1 (grayscale) or 3 (RGB)
	Height   int       `json:"height"`
	Width    int       `json:"width"`
	Augment  []Augment `json:"augment,omitempty"` // applied in order; none at evaluation
	Mean     []float64 `json:"mean"`              // per channel, of pixels in [0, 1]
	Std      []float64 `json:"std"`               // per channel, > 0
}

// augmentNames maps --augment entries to ops.
var augmentNames = map[string]string{
	"resized-crop": OpRandomResizedCrop, "random-resized-crop": OpRandomResizedCrop,
	"crop": OpRandomCrop, "random-crop": OpRandomCrop,
	"flip": OpRandomHorizontalFlip, "hflip": OpRandomHorizontalFlip, "random-horizontal-flip": OpRandomHorizontalFlip,
}

// ParseAugment parses an --augment list: comma-separated entries among
// "crop" (RandomCrop with padding), "resized-crop" (RandomResizedCrop),
// "flip" (RandomHorizontalFlip), applied in the order given; "none" or ""
// for no augmentation. Parameters take their defaults.
func ParseAugment(list string) ([]Augment, error) {
	list = strings.TrimSpace(list)
	if list == "" || strings.EqualFold(list, "none") {
		return nil, nil
	}
	var out []Augment
	seen := map[string]bool{}
	for _, entry := range strings.Split(list, ",") {
		name := strings.ToLower(strings.TrimSpace(entry))
		op, ok := augmentNames[name]
		switch {
		case name == "none":
			return nil, fmt.Errorf("augment list %q: \"none\" cannot be combined with other entries", list)
		case !ok:
			return nil, fmt.Errorf("augment list %q: unknown entry %q: want crop, resized-crop, flip or none", list, entry)
		case seen[op]:
			return nil, fmt.Errorf("augment list %q: %q given twice", list, entry)
		}
		seen[op] = true
		out = append(out, Augment{Op: op})
	}
	return out, nil
}

// NewPipeline returns the pipeline for c×h×w inputs with the given
// augmentations, their unset parameters filled in with the defaults, and
// normalization statistics. It checks the result as Validate does.
func NewPipeline(c, h, w int, augment []Augment, mean, std []float64) (Pipeline, error) {
	p := Pipeline{Channels: c, Height: h, Width: w, Mean: slices.Clone(mean), Std: slices.Clone(std)}
	for _, a := range augment {
		switch a.Op {
		case OpRandomResizedCrop:
			if a.Scale == nil {
				a.Scale = &[2]float64{0.08, 1}
			}
			if a.Ratio == nil {
				a.Ratio = &[2]float64{3.0 / 4, 4.0 / 3}
			}
		case OpRandomCrop:
			if a.Padding == 0 {
				a.Padding = max(1, int(math.Round(float64(min(h, w))/8)))
			}
		case OpRandomHorizontalFlip:
			if a.P == nil {
				half := 0.5
				a.P = &half
			}
		}
		p.Augment = append(p.Augment, a)
	}
	return p, p.Validate()
}

// Pipeline returns the training pipeline for the set: its image shape,
// the given augmentations, and the mean and standard deviation of its
// training split (Images.MeanStd). Its Eval is the evaluation pipeline.
func (s *Set) Pipeline(augment []Augment) (Pipeline, error) {
	mean, std := s.Train.MeanStd()
	for c, v := range std {
		if v == 0 {
			std[c] = 1 // a constant channel: centring is all Normalize can do
		}
	}
	return NewPipeline(s.Train.C, s.Train.H, s.Train.W, augment, mean, std)
}

// Eval is the pipeline without augmentation: what evaluation and predict
// apply.
func (p Pipeline) Eval() Pipeline {
	p.Augment = nil
	p.Mean, p.Std = slices.Clone(p.Mean), slices.Clone(p.Std)
	return p
}

// Shape is the per-example model input shape, [C, H, W].
func (p Pipeline) Shape() []int { return []int{p.Channels, p.Height, p.Width} }

// Validate checks a pipeline, such as one read from a checkpoint, naming
// the field at fault.
func (p Pipeline) Validate() error {
	if p.Channels != 1 && p.Channels != 3 {
		return fmt.Errorf("pipeline: channels %d, want 1 or 3", p.Channels)
	}
	if p.Height < 1 || p.Width < 1 {
		return fmt.Errorf("pipeline: height %d, width %d: want positive sizes", p.Height, p.Width)
	}
	if int64(p.Height)*int64(p.Width) > MaxPixels {
		return fmt.Errorf("pipeline: height %d × width %d is over the %d-pixel limit", p.Height, p.Width, MaxPixels)
	}
	if len(p.Mean) != p.Channels || len(p.Std) != p.Channels {
		return fmt.Errorf("pipeline: %d mean and %d std values for %d channels", len(p.Mean), len(p.Std), p.Channels)
	}
	for c, s := range p.Std {
		if !(s > 0) || math.IsInf(s, 0) || math.IsNaN(p.Mean[c]) || math.IsInf(p.Mean[c], 0) {
			return fmt.Errorf("pipeline: channel %d: mean %g, std %g: want finite values and std > 0", c, p.Mean[c], s)
		}
		// Normalizing runs in float32: a std of 1e-300 is 0 there, and a
		// tiny one sends pixels to ±Inf.
		m32, s32 := float32(p.Mean[c]), float32(s)
		for _, v := range []float32{0, 1} {
			if y := (v - m32) / s32; !(s32 > 0) || math.IsInf(float64(y), 0) || math.IsNaN(float64(y)) {
				return fmt.Errorf("pipeline: channel %d: mean %g, std %g: normalized pixels are not finite in float32", c, p.Mean[c], s)
			}
		}
	}
	for i, a := range p.Augment {
		var err error
		switch a.Op {
		case OpRandomResizedCrop:
			switch {
			case a.Scale == nil || a.Ratio == nil:
				err = errors.New("scale and ratio are required")
			case !(a.Scale[0] > 0 && a.Scale[0] <= a.Scale[1] && a.Scale[1] <= 1):
				err = fmt.Errorf("scale %v: want 0 < min ≤ max ≤ 1", *a.Scale)
			case !(a.Ratio[0] > 0 && a.Ratio[0] <= a.Ratio[1]) || math.IsInf(a.Ratio[1], 0):
				err = fmt.Errorf("ratio %v: want 0 < min ≤ max", *a.Ratio)
			}
		case OpRandomCrop:
			if a.Padding < 0 || a.Padding > max(p.Height, p.Width) {
				err = fmt.Errorf("padding %d: want 0 to the image size", a.Padding)
			}
		case OpRandomHorizontalFlip:
			if a.P == nil || !(*a.P >= 0 && *a.P <= 1) {
				err = errors.New("p: want a probability in [0, 1]")
			}
		default:
			err = fmt.Errorf("unknown op %q: want %s, %s or %s", a.Op, OpRandomResizedCrop, OpRandomCrop, OpRandomHorizontalFlip)
		}
		if err != nil {
			return fmt.Errorf("pipeline: augment[%d] (%s): %w", i, a.Op, err)
		}
	}
	return nil
}

// ParsePipeline decodes and validates a pipeline saved as JSON.
func ParsePipeline(b []byte) (Pipeline, error) {
	var p Pipeline
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("pipeline: %w", err)
	}
	return p, p.Validate()
}

// augRNG returns the generator for one example's augmentation: a pure
// function of the seed, the epoch and the example's index, so a resumed
// run, or the same batch drawn in another order, sees the same images.
func augRNG(seed uint64, epoch, index int) dataset.SplitMix {
	return dataset.SplitMix{State: dataset.Mix64(dataset.Mix64(seed^0xa0761d6478bd642f)+uint64(epoch)) ^ dataset.Mix64(uint64(index)+0xe7037ed1a0b428db)}
}

// augmenter applies a pipeline's augmentations to CHW float images of the
// pipeline's size, in place, reusing its buffers.
type augmenter struct {
	p       Pipeline
	buf     []float32
	scratch resizeScratch
}

func (a *augmenter) apply(x []float32, rng *dataset.SplitMix) {
	for _, aug := range a.p.Augment {
		switch aug.Op {
		case OpRandomResizedCrop:
			top, left, h, w := resizedCropBox(a.p.Height, a.p.Width, *aug.Scale, *aug.Ratio, rng)
			a.resizedCrop(x, top, left, h, w)
		case OpRandomCrop:
			pad := aug.Padding
			top, left := int(rng.Below(uint64(2*pad+1))), int(rng.Below(uint64(2*pad+1)))
			a.shift(x, top-pad, left-pad)
		case OpRandomHorizontalFlip:
			if rng.Uniform(0, 1) < *aug.P {
				flipHorizontal(x, a.p.Channels, a.p.Height, a.p.Width)
			}
		}
	}
}

// resizedCropBox draws RandomResizedCrop's box as torchvision's
// get_params does: ten tries at an area share uniform in scale and a
// log-uniform aspect ratio, then a centre crop of the image clamped to the
// ratio range.
func resizedCropBox(height, width int, scale, ratio [2]float64, rng *dataset.SplitMix) (top, left, h, w int) {
	area := float64(height * width)
	logLo, logHi := math.Log(ratio[0]), math.Log(ratio[1])
	for range 10 {
		target := area * rng.Uniform(scale[0], scale[1])
		aspect := math.Exp(rng.Uniform(logLo, logHi))
		w = int(math.RoundToEven(math.Sqrt(target * aspect)))
		h = int(math.RoundToEven(math.Sqrt(target / aspect)))
		if 0 < w && w <= width && 0 < h && h <= height {
			top = int(rng.Below(uint64(height - h + 1)))
			left = int(rng.Below(uint64(width - w + 1)))
			return top, left, h, w
		}
	}
	inRatio := float64(width) / float64(height)
	switch {
	case inRatio < ratio[0]:
		w, h = width, int(math.RoundToEven(float64(width)/ratio[0]))
	case inRatio > ratio[1]:
		h, w = height, int(math.RoundToEven(float64(height)*ratio[1]))
	default:
		w, h = width, height
	}
	return (height - h) / 2, (width - w) / 2, h, w
}

// resizedCrop replaces x by its h×w box at (top, left) resized to the
// full size.
func (a *augmenter) resizedCrop(x []float32, top, left, h, w int) {
	H, W := a.p.Height, a.p.Width
	if h == H && w == W {
		return
	}
	a.buf = a.scratch.grow(&a.buf, H*W)
	a.scratch.tx.bilinear(w, W)
	a.scratch.ty.bilinear(h, H)
	for c := range a.p.Channels {
		plane := x[c*H*W : (c+1)*H*W]
		resizeWithTaps(a.buf, H, W, plane, W, top, left, h, w, &a.scratch)
		copy(plane, a.buf)
	}
}

// shift moves every channel's content by (dy, dx), filling with zeros:
// a crop of the input size at offset (pad+dy, pad+dx) of the zero-padded
// image.
func (a *augmenter) shift(x []float32, dy, dx int) {
	if dy == 0 && dx == 0 {
		return
	}
	H, W := a.p.Height, a.p.Width
	a.buf = a.scratch.grow(&a.buf, H*W)
	for c := range a.p.Channels {
		plane := x[c*H*W : (c+1)*H*W]
		clear(a.buf)
		for y := range H {
			sy := y + dy
			if sy < 0 || sy >= H {
				continue
			}
			x0, x1 := max(0, -dx), min(W, W-dx) // output columns whose source column x+dx is inside
			if x0 < x1 {
				copy(a.buf[y*W+x0:y*W+x1], plane[sy*W+x0+dx:sy*W+x1+dx])
			}
		}
		copy(plane, a.buf)
	}
}

func flipHorizontal(x []float32, c, h, w int) {
	for r := range c * h {
		slices.Reverse(x[r*w : (r+1)*w])
	}
}
