package imageclass

import (
	"context"
	"fmt"
	"image"
	"math"
	"slices"

	"github.com/tapeml/tapeml/api"
	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/imagedata"
	"github.com/tapeml/tapeml/kinds"
)

// Codec is an image model's family state.
type Codec struct {
	run Run
	pre Preprocessing
}

// Run is the model's run format: its architecture and data source.
func (m *Codec) Run() Run { return m.run }

// Preprocessing is the model's pipeline, classes and augmentation.
func (m *Codec) Preprocessing() Preprocessing { return m.pre }

// ImageShape is the model's [C, H, W].
func (m *Codec) ImageShape() [3]int {
	p := m.pre.Pipeline
	return [3]int{p.Channels, p.Height, p.Width}
}

func (m *Codec) size() int {
	p := m.pre.Pipeline
	return p.Channels * p.Height * p.Width
}

// Signature: raw pixels ("images", FP32 [N, C, H, W] in [0, 255]) or
// encoded PNG/JPEG files ("image", BYTES [N]) in; the class
// probabilities, label and class name out.
func (m *Codec) Signature() api.Signature {
	p := m.pre.Pipeline
	return api.Signature{
		Inputs: []api.TensorSpec{
			{Name: "images", Datatype: api.FP32, Shape: []int64{-1, int64(p.Channels), int64(p.Height), int64(p.Width)}, Doc: "raw pixel values in [0, 255]"},
			{Name: "image", Datatype: api.BYTES, Shape: []int64{-1}, Doc: "PNG or JPEG files", Binary: true},
		},
		Outputs: []api.TensorSpec{
			{Name: "probs", Datatype: api.FP32, Shape: []int64{-1, int64(len(m.pre.Classes))}, Doc: "the probability of each class, in class order"},
			{Name: "label", Datatype: api.INT32, Shape: []int64{-1}, Doc: "the predicted class's index"},
			{Name: "class", Datatype: api.BYTES, Shape: []int64{-1}, Doc: "the predicted class's name"},
		},
		Groups:    [][]string{{"images"}, {"image"}},
		Batchable: true,
	}
}

// Infer classifies the images of input "images" or "image".
func (m *Codec) Infer(ctx context.Context, net kinds.Net, inputs []api.Tensor) ([]api.Tensor, error) {
	in, err := kinds.Inputs(m.Signature(), inputs)
	if err != nil {
		return nil, err
	}
	var x []float32
	var n int
	if t := in["images"]; t != nil {
		n = t.Rows()
		if x, err = m.NormalizePixels(t.FP32, n); err != nil {
			return nil, api.Invalid(fmt.Errorf("input %q: %w", t.Name, err))
		}
	} else {
		// One image decoded at a time: only its pixels and the model's
		// inputs are held at once.
		t := in["image"]
		n = len(t.Bytes)
		x = make([]float32, 0, n*m.size())
		for i, b := range t.Bytes {
			img, err := imagedata.DecodeImage(b)
			if err != nil {
				return nil, api.Invalid(fmt.Errorf("input %q: element %d: %w", t.Name, i, err))
			}
			v, _, err := imagedata.PreprocessImage(img, m.pre.Pipeline)
			if err != nil {
				return nil, api.Invalid(fmt.Errorf("input %q: %w", t.Name, &ImageError{Index: i, Err: err}))
			}
			x = append(x, v...)
		}
	}
	logits, err := net.Forward(ctx, [][]float32{x}, n)
	if err != nil {
		return nil, err
	}
	return kinds.PredictionTensors(m.Predictions(logits, n), len(m.pre.Classes)), nil
}

// Cost counts the pixels the image files of input "image" decode to, and
// those they are resized into, from their headers.
func (m *Codec) Cost(inputs []api.Tensor) (api.Cost, error) {
	var c api.Cost
	p := m.pre.Pipeline
	for _, t := range inputs {
		if t.Name != "image" {
			continue
		}
		for i, b := range t.Bytes {
			n, err := imagedata.DecodedPixels(b, p.Height, p.Width)
			if err != nil {
				return c, api.Invalid(fmt.Errorf("input %q: element %d: %w", t.Name, i, err))
			}
			c.Pixels += n
		}
	}
	return c, nil
}

// Info describes the model.
func (m *Codec) Info() kinds.Info {
	p := m.pre.Pipeline
	lines := []string{
		fmt.Sprintf("resize to %d×%d, %d channel(s)", p.Width, p.Height, p.Channels),
		fmt.Sprintf("normalize: mean %v, std %v", roundAll(p.Mean), roundAll(p.Std)),
	}
	return kinds.Info{
		Family:        Family.Name(),
		Classes:       slices.Clone(m.pre.Classes),
		Positive:      -1,
		Inputs:        []kinds.TensorShape{{Name: "image", Shape: p.Shape()}},
		Preprocessing: lines,
		Data:          []string{m.run.Data.Path},
	}
}

func roundAll(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = math.Round(x*1e4) / 1e4
	}
	return out
}

// EncodeImages resizes, converts and normalizes decoded images as at
// training. A colour image given to a grayscale model is an error naming
// its index.
func (m *Codec) EncodeImages(images []image.Image) ([]float32, []string, error) {
	if len(images) == 0 {
		return nil, nil, fmt.Errorf("no images")
	}
	p := m.pre.Pipeline
	x := make([]float32, 0, m.size()*len(images))
	notes := make([]string, len(images))
	for i, img := range images {
		v, info, err := imagedata.PreprocessImage(img, p)
		if err != nil {
			return nil, nil, &ImageError{Index: i, Err: err}
		}
		x = append(x, v...)
		notes[i] = info.Note(p)
	}
	return x, notes, nil
}

// NormalizePixels normalizes n images of raw pixels in [0, 255], laid out
// [n, C, H, W] at the model's size, into a new slice.
func (m *Codec) NormalizePixels(pixels []float32, n int) ([]float32, error) {
	p := m.pre.Pipeline
	if n < 1 {
		return nil, fmt.Errorf("no images")
	}
	if size := m.size(); n > len(pixels)/size || len(pixels) != n*size { // division first: n·size could overflow
		return nil, fmt.Errorf("%d values for %d images of %d×%d×%d", len(pixels), n, p.Channels, p.Height, p.Width)
	}
	x := append([]float32(nil), pixels...)
	if err := p.NormalizeRaw(x); err != nil {
		return nil, err
	}
	return x, nil
}

// Denormalize undoes the pipeline's normalization: pixels in 0..255.
func (m *Codec) Denormalize(x []float32) []uint8 {
	p := m.pre.Pipeline
	hw := p.Height * p.Width
	out := make([]uint8, len(x))
	for k, v := range x {
		ch := k / hw
		f := (float64(v)*p.Std[ch] + p.Mean[ch]) * 255
		out[k] = uint8(math.Round(min(255, max(0, f))))
	}
	return out
}

// Predictions reads n rows of logits.
func (m *Codec) Predictions(logits []float32, n int) []api.Prediction {
	return kinds.SoftmaxPredictions(logits, n, m.pre.Classes)
}

// Target resolves the class an explanation scores.
func (m *Codec) Target(target string, pred api.Prediction) ([]float32, string, float64, error) {
	return kinds.SoftmaxTarget(target, pred, m.pre.Classes)
}

// Evaluate scores the model on the test split of its run's data, or on
// another image set with the same classes (resized to the model's size):
// its test split if it ships one, else all of it (kinds.EvalSplit).
func (m *Codec) Evaluate(ctx context.Context, net kinds.Net, opt kinds.EvalOptions) (*kinds.EvalReport, error) {
	src := m.run.Data
	if opt.Data != "" {
		src.Path, src.Format = opt.Data, imagedata.FormatAuto
	}
	if opt.SplitSeed != nil {
		src.Seed = *opt.SplitSeed
	}
	data, err := src.Load()
	if err != nil {
		return nil, err
	}
	if !slices.Equal(data.Classes, m.pre.Classes) {
		return nil, fmt.Errorf("data %s has classes %v, the model was trained on %v", src.Path, data.Classes, m.pre.Classes)
	}
	p := m.pre.Pipeline
	split, images := kinds.EvalSplit(opt, m.run.Data.Path, data.TestGiven), data.Test
	if split == kinds.SplitAll {
		images = data.All()
	}
	rows := data.Train.Len() + data.Val.Len() + data.Test.Len()
	test, resized, err := images.Conform(p.Channels, p.Height, p.Width)
	if err != nil {
		return nil, err
	}
	if resized > 0 && opt.Notes != nil {
		opt.Notes(fmt.Sprintf("%d images resized to the model's %d×%d", resized, p.Width, p.Height))
	}
	ds, err := imagedata.NewDataset(test, p, src.Seed)
	if err != nil {
		return nil, err
	}
	r, err := kinds.EvaluateClassifier(ctx, net, ds, m.pre.Classes, -1, opt.Batch)
	if err != nil {
		return nil, err
	}
	r.Data, r.Split, r.Rows = src.Path, split, rows
	if len(test.Sources) == r.N {
		r.Sources = test.Sources
	}
	return r, nil
}

// Splits reads the run's image set, as training split it, resized to the
// model's size where needed.
func (m *Codec) Splits(ctx context.Context) (train, val, test dataset.Dataset, err error) {
	src, p := m.run.Data, m.pre.Pipeline
	set, err := src.Load()
	if err != nil {
		return nil, nil, nil, err
	}
	var out [3]dataset.Dataset
	for i, part := range []*imagedata.Images{set.Train, set.Val, set.Test} {
		if part == nil || part.Len() == 0 {
			continue
		}
		im, _, err := part.Conform(p.Channels, p.Height, p.Width)
		if err != nil {
			return nil, nil, nil, err
		}
		if out[i], err = imagedata.NewDataset(im, p, src.Seed); err != nil {
			return nil, nil, nil, err
		}
	}
	return out[0], out[1], out[2], nil
}

// ImageError is an image that cannot be encoded, by its index among those
// given, so that a caller can name it as it knows it (a file).
type ImageError struct {
	Index int
	Err   error
}

func (e *ImageError) Error() string { return fmt.Sprintf("image %d: %v", e.Index, e.Err) }
func (e *ImageError) Unwrap() error { return e.Err }

// TestSample returns the first n images of the run's test split as raw
// pixels ("images", [n, C, H, W] in 0–255), with their classes.
func (m *Codec) TestSample(ctx context.Context, n int) ([]api.Tensor, []string, error) {
	set, err := m.run.Data.Load()
	if err != nil {
		return nil, nil, err
	}
	test := set.Test
	n = min(n, test.Len())
	px := make([]float32, n*test.Size())
	for i := range px {
		px[i] = float32(test.Pixels[i])
	}
	labels := make([]string, n)
	for i := range labels {
		labels[i] = set.Classes[test.Labels[i]]
	}
	t := api.Tensor{Name: "images", Datatype: api.FP32, Shape: []int64{int64(n), int64(test.C), int64(test.H), int64(test.W)}, FP32: px}
	return []api.Tensor{t}, labels, nil
}
