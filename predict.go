package tapeml

import (
	"context"
	"fmt"
	"image"
	"math"

	"github.com/tapeml/tapeml/imagedata"
	"github.com/tapeml/tapeml/metrics"
)

// Prediction is a classifier's answer for one input.
type Prediction struct {
	Label int     // index of Class among the model's classes
	Class string  // the predicted class's name
	Prob  float32 // the probability of Class
	// Probs is the probability of every class, in class order; a binary
	// text model gives two.
	Probs []float32
}

// ClassifyTexts classifies raw texts (text models: textcnn, lstm), cleaned,
// tokenized and padded as at training. An empty text is valid (it is all
// padding); an empty list is an error. The context is checked between
// batches.
func (m *Model) ClassifyTexts(ctx context.Context, texts []string) ([]Prediction, error) {
	ids, err := m.EncodeTexts(texts)
	if err != nil {
		return nil, err
	}
	logits, err := m.run.run(ctx, [][]float32{ids}, len(texts))
	if err != nil {
		return nil, fmt.Errorf("tapeml: ClassifyTexts: %w", err)
	}
	return m.predictions(logits, len(texts)), nil
}

// EncodeTexts returns the token ids the model sees for each text,
// [len(texts)·MaxLen] row by row, padded and truncated as at training.
func (m *Model) EncodeTexts(texts []string) ([]float32, error) {
	t := m.loaded.Text
	if t == nil {
		return nil, m.wrongKind("ClassifyTexts", "a text model (textcnn, lstm)")
	}
	if len(texts) == 0 {
		return nil, fmt.Errorf("tapeml: ClassifyTexts: no texts")
	}
	clean := make([]string, len(texts))
	for i, s := range texts {
		clean[i] = t.Pre.Clean.Clean(s)
	}
	ids, err := t.Pre.IDs(clean)
	if err != nil {
		return nil, fmt.Errorf("tapeml: ClassifyTexts: %w", err)
	}
	return ids, nil
}

// ClassifyImages classifies decoded images (image models: convnet),
// resized, converted and normalized as at training. A colour image given
// to a grayscale model is an error naming its index, as is an empty list.
func (m *Model) ClassifyImages(ctx context.Context, images []image.Image) ([]Prediction, error) {
	im := m.loaded.Image
	if im == nil {
		return nil, m.wrongKind("ClassifyImages", "an image model (convnet)")
	}
	if len(images) == 0 {
		return nil, fmt.Errorf("tapeml: ClassifyImages: no images")
	}
	p := im.Pre.Pipeline
	size := p.Channels * p.Height * p.Width
	x := make([]float32, 0, size*len(images))
	for i, img := range images {
		v, _, err := imagedata.PreprocessImage(img, p)
		if err != nil {
			return nil, fmt.Errorf("tapeml: ClassifyImages: image %d: %w", i, err)
		}
		x = append(x, v...)
	}
	return m.classifyNormalized(ctx, x, len(images))
}

// ClassifyPixels classifies n images given as raw pixel values in [0, 255],
// laid out [n, C, H, W] at the model's size (Inputs), normalized as at
// training — the form a server receives tensors in. It does not modify
// pixels.
func (m *Model) ClassifyPixels(ctx context.Context, pixels []float32, n int) ([]Prediction, error) {
	im := m.loaded.Image
	if im == nil {
		return nil, m.wrongKind("ClassifyPixels", "an image model (convnet)")
	}
	p := im.Pre.Pipeline
	if n < 1 {
		return nil, fmt.Errorf("tapeml: ClassifyPixels: no images")
	}
	if len(pixels) != n*p.Channels*p.Height*p.Width {
		return nil, fmt.Errorf("tapeml: ClassifyPixels: %d values for %d images of %d×%d×%d", len(pixels), n, p.Channels, p.Height, p.Width)
	}
	x := append([]float32(nil), pixels...)
	if err := p.NormalizeRaw(x); err != nil {
		return nil, fmt.Errorf("tapeml: ClassifyPixels: %w", err)
	}
	return m.classifyNormalized(ctx, x, n)
}

func (m *Model) classifyNormalized(ctx context.Context, x []float32, n int) ([]Prediction, error) {
	logits, err := m.run.run(ctx, [][]float32{x}, n)
	if err != nil {
		return nil, fmt.Errorf("tapeml: ClassifyImages: %w", err)
	}
	return m.predictions(logits, n), nil
}

// predictions turns n rows of logits into predictions: the sigmoid of a
// binary logit (the probability of the positive class), or the softmax of
// multiclass logits.
func (m *Model) predictions(logits []float32, n int) []Prediction {
	classes := m.Classes()
	out := make([]Prediction, n)
	if m.task == metrics.Binary {
		pos := m.loaded.Text.Pre.Positive
		for i := range out {
			p := float32(sigmoid(float64(logits[i])))
			probs := make([]float32, 2)
			probs[pos], probs[1-pos] = p, 1-p
			label := 1 - pos
			if p >= 0.5 {
				label = pos
			}
			out[i] = Prediction{Label: label, Class: classes[label], Prob: probs[label], Probs: probs}
		}
		return out
	}
	k := len(classes)
	probs := metrics.Probabilities(metrics.Multiclass, logits, k)
	for i := range out {
		row := probs[i*k : (i+1)*k : (i+1)*k]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		out[i] = Prediction{Label: best, Class: classes[best], Prob: row[best], Probs: row}
	}
	return out
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}
