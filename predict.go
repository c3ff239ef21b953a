package tapeml

import (
	"context"
	"fmt"
	"image"

	"github.com/tapeml/tapeml/kinds"
)

// ClassifyTexts classifies raw texts (text models: textcnn, lstm,
// fasttext), cleaned, tokenized and padded as at training. An empty text
// is valid (it is all padding); it and a text of unknown words only carry
// no evidence: their Prediction says so (NoEvidence) and holds the
// training set's class prior. An empty list is an error. The context is
// checked between batches.
func (m *Model) ClassifyTexts(ctx context.Context, texts []string) ([]Prediction, error) {
	if err := checkContext(ctx, "ClassifyTexts"); err != nil {
		return nil, err
	}
	ids, err := m.EncodeTexts(texts)
	if err != nil {
		return nil, err
	}
	return m.classify(ctx, "ClassifyTexts", ids, len(texts))
}

// EncodeTexts returns the token ids the model sees for each text,
// [len(texts)·MaxLen] row by row, padded and truncated as at training.
func (m *Model) EncodeTexts(texts []string) ([]float32, error) {
	enc, ok := m.c.Loaded.Codec.(kinds.TextEncoder)
	if !ok {
		return nil, m.wrongKind("ClassifyTexts", "a text model (textcnn, lstm)")
	}
	if len(texts) == 0 {
		return nil, fmt.Errorf("tapeml: ClassifyTexts: no texts")
	}
	ids, err := enc.EncodeTexts(texts)
	if err != nil {
		return nil, fmt.Errorf("tapeml: ClassifyTexts: %w", err)
	}
	return ids, nil
}

// ClassifyImages classifies decoded images (image models: convnet),
// resized, converted and normalized as at training. A colour image given
// to a grayscale model is an error naming its index, as is an empty list.
func (m *Model) ClassifyImages(ctx context.Context, images []image.Image) ([]Prediction, error) {
	if err := checkContext(ctx, "ClassifyImages"); err != nil {
		return nil, err
	}
	enc, ok := m.c.Loaded.Codec.(kinds.ImageEncoder)
	if !ok {
		return nil, m.wrongKind("ClassifyImages", "an image model (convnet)")
	}
	if len(images) == 0 {
		return nil, fmt.Errorf("tapeml: ClassifyImages: no images")
	}
	x, _, err := enc.EncodeImages(images)
	if err != nil {
		return nil, fmt.Errorf("tapeml: ClassifyImages: %w", err)
	}
	return m.classify(ctx, "ClassifyImages", x, len(images))
}

// ClassifyPixels classifies n images given as raw pixel values in [0, 255],
// laid out [n, C, H, W] at the model's size (Inputs), normalized as at
// training — the form a server receives tensors in. It does not modify
// pixels.
func (m *Model) ClassifyPixels(ctx context.Context, pixels []float32, n int) ([]Prediction, error) {
	if err := checkContext(ctx, "ClassifyPixels"); err != nil {
		return nil, err
	}
	enc, ok := m.c.Loaded.Codec.(kinds.ImageEncoder)
	if !ok {
		return nil, m.wrongKind("ClassifyPixels", "an image model (convnet)")
	}
	x, err := enc.NormalizePixels(pixels, n)
	if err != nil {
		return nil, fmt.Errorf("tapeml: ClassifyPixels: %w", err)
	}
	return m.classify(ctx, "ClassifyImages", x, n)
}

// classify runs n encoded inputs and reads the logits as predictions.
func (m *Model) classify(ctx context.Context, method string, x []float32, n int) ([]Prediction, error) {
	cl, ok := m.c.Loaded.Codec.(kinds.Classifier)
	if !ok || m.c.Run == nil {
		return nil, m.wrongKind(method, "a classifier")
	}
	logits, err := m.c.Run.Forward(ctx, [][]float32{x}, n)
	if err != nil {
		return nil, fmt.Errorf("tapeml: %s: %w", method, err)
	}
	if ic, ok := cl.(kinds.InputClassifier); ok {
		return ic.PredictionsFor([][]float32{x}, logits, n), nil
	}
	return cl.Predictions(logits, n), nil
}
