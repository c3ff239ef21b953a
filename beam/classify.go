package tapebeam

import (
	"context"
	"fmt"
	"image"
	"reflect"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/imagedata"
)

// DefaultBatchSize is how many elements a DoFn buffers before it calls the
// model.
const DefaultBatchSize = 256

func init() {
	beam.RegisterType(reflect.TypeOf((*tapeml.Prediction)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*tapeml.Recommendation)(nil)).Elem())
	register.DoFn4x1[context.Context, string, string, func(string, tapeml.Prediction), error](&classifyTextsFn{})
	register.DoFn4x1[context.Context, string, []byte, func(string, tapeml.Prediction), error](&classifyImagesFn{})
	register.DoFn4x1[context.Context, string, string, func(string, []tapeml.Recommendation), error](&recommendFn{})
	register.Emitter2[string, tapeml.Prediction]()
	register.Emitter2[string, []tapeml.Recommendation]()
}

// Config tunes the transforms. The zero value means the defaults.
type Config struct {
	// BatchSize is how many elements are scored in one model call, at most.
	// Default DefaultBatchSize (256).
	BatchSize int
}

func (c Config) batch() int {
	if c.BatchSize < 1 {
		return DefaultBatchSize
	}
	return c.BatchSize
}

// ClassifyTexts classifies texts, a PCollection<KV<string, string>> of key
// and raw text, with the text model (textcnn, lstm) at modelPath, and
// returns PCollection<KV<string, tapeml.Prediction>>: each text's key with
// its prediction, as tapeml.Model.ClassifyTexts gives it.
func ClassifyTexts(s beam.Scope, modelPath string, texts beam.PCollection, cfg ...Config) beam.PCollection {
	s = s.Scope("tapeml.ClassifyTexts")
	return beam.ParDo(s, &classifyTextsFn{withModel: withModel{ModelPath: modelPath}, BatchSize: pick(cfg).batch()}, texts)
}

// ClassifyImages classifies images, a PCollection<KV<string, []byte>> of
// key and encoded image (PNG or JPEG), with the image model (convnet) at
// modelPath, and returns PCollection<KV<string, tapeml.Prediction>>.
func ClassifyImages(s beam.Scope, modelPath string, images beam.PCollection, cfg ...Config) beam.PCollection {
	s = s.Scope("tapeml.ClassifyImages")
	return beam.ParDo(s, &classifyImagesFn{withModel: withModel{ModelPath: modelPath}, BatchSize: pick(cfg).batch()}, images)
}

// Recommend gives up to n items to each user of users, a
// PCollection<KV<string, string>> of key and raw user id, with the
// recommender at modelPath, and returns
// PCollection<KV<string, []tapeml.Recommendation>>, as
// tapeml.Model.Recommend gives them.
func Recommend(s beam.Scope, modelPath string, users beam.PCollection, n int) beam.PCollection {
	s = s.Scope("tapeml.Recommend")
	return beam.ParDo(s, &recommendFn{withModel: withModel{ModelPath: modelPath}, N: n}, users)
}

func pick(cfg []Config) Config {
	if len(cfg) == 0 {
		return Config{}
	}
	return cfg[0]
}

// classifyTextsFn buffers texts in ProcessElement and classifies them a
// batch at a time; FinishBundle scores the rest, so nothing outlives its
// bundle. Emitting from FinishBundle puts results in the global window:
// these transforms are for batch (globally windowed) pipelines.
type classifyTextsFn struct {
	withModel
	BatchSize int

	keys  []string
	texts []string
}

func (f *classifyTextsFn) ProcessElement(ctx context.Context, key, text string, emit func(string, tapeml.Prediction)) error {
	f.keys, f.texts = append(f.keys, key), append(f.texts, text)
	if len(f.keys) < f.BatchSize {
		return nil
	}
	return f.flush(ctx, emit)
}

func (f *classifyTextsFn) FinishBundle(ctx context.Context, emit func(string, tapeml.Prediction)) error {
	return f.flush(ctx, emit)
}

func (f *classifyTextsFn) flush(ctx context.Context, emit func(string, tapeml.Prediction)) error {
	if len(f.keys) == 0 {
		return nil
	}
	defer func() { f.keys, f.texts = f.keys[:0], f.texts[:0] }()
	preds, err := f.model.ClassifyTexts(ctx, f.texts)
	if err != nil {
		return fmt.Errorf("tapebeam: %d texts from key %q: %w", len(f.keys), f.keys[0], err)
	}
	for i, p := range preds {
		emit(f.keys[i], p)
	}
	return nil
}

// classifyImagesFn decodes each image as it arrives (a bad image fails
// naming its key) and classifies them a batch at a time.
type classifyImagesFn struct {
	withModel
	BatchSize int

	keys   []string
	images []image.Image
}

func (f *classifyImagesFn) ProcessElement(ctx context.Context, key string, encoded []byte, emit func(string, tapeml.Prediction)) error {
	img, err := imagedata.DecodeImage(encoded)
	if err != nil {
		return fmt.Errorf("tapebeam: image %q: %w", key, err)
	}
	f.keys, f.images = append(f.keys, key), append(f.images, img)
	if len(f.keys) < f.BatchSize {
		return nil
	}
	return f.flush(ctx, emit)
}

func (f *classifyImagesFn) FinishBundle(ctx context.Context, emit func(string, tapeml.Prediction)) error {
	return f.flush(ctx, emit)
}

func (f *classifyImagesFn) flush(ctx context.Context, emit func(string, tapeml.Prediction)) error {
	if len(f.keys) == 0 {
		return nil
	}
	defer func() { clear(f.images); f.keys, f.images = f.keys[:0], f.images[:0] }()
	preds, err := f.model.ClassifyImages(ctx, f.images)
	if err != nil {
		return fmt.Errorf("tapebeam: %w", nameImage(err, f.keys))
	}
	for i, p := range preds {
		emit(f.keys[i], p)
	}
	return nil
}

// nameImage replaces the library's "image N" in an error with the key.
func nameImage(err error, keys []string) error {
	msg := err.Error()
	for i := len(keys) - 1; i >= 0; i-- {
		if tag := fmt.Sprintf("image %d: ", i); strings.Contains(msg, tag) {
			return fmt.Errorf("image %q: %s", keys[i], msg[strings.Index(msg, tag)+len(tag):])
		}
	}
	return err
}

// recommendFn recommends per user: the library ranks one user at a time,
// so there is nothing to gain from buffering.
type recommendFn struct {
	withModel
	N int
}

func (f *recommendFn) ProcessElement(ctx context.Context, key, user string, emit func(string, []tapeml.Recommendation)) error {
	recs, err := f.model.Recommend(ctx, user, f.N)
	if err != nil {
		return fmt.Errorf("tapebeam: user %q (key %q): %w", user, key, err)
	}
	emit(key, recs)
	return nil
}
