package explain

import (
	"context"
	"fmt"
	"image"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/api"
	"github.com/tapeml/tapeml/imagedata"
	"github.com/tapeml/tapeml/kinds"
)

// Explanation is one input's explanation: a *TextExplanation or an
// *ImageExplanation.
type Explanation interface {
	RelativeDelta() float64
	Converged() bool
}

// Inputs explains a classifier's predictions for raw inputs given as its
// Signature describes them — texts ("text"), or images as raw pixels
// ("images") or encoded files ("image") — as a server's explain endpoint
// receives them. Its errors about the inputs or options are
// api.InputErrors.
func Inputs(ctx context.Context, tm *tapeml.Model, inputs []api.Tensor, opts Options) ([]Explanation, error) {
	if err := checkContext(ctx, "Inputs"); err != nil {
		return nil, err
	}
	m := unwrap(tm)
	in, err := kinds.Inputs(tm.Signature(), inputs)
	if err != nil {
		return nil, err
	}
	var out []Explanation
	switch {
	case in["text"] != nil:
		ex, err := Texts(ctx, tm, in["text"].StringsOf(), opts)
		if err != nil {
			return nil, inputError(ctx, err)
		}
		for i := range ex {
			out = append(out, &ex[i])
		}
	case in["images"] != nil || in["image"] != nil:
		var ex []ImageExplanation
		if t := in["images"]; t != nil {
			ex, err = Pixels(ctx, tm, t.FP32, t.Rows(), opts)
		} else {
			imgs := make([]image.Image, len(in["image"].Bytes))
			for i, b := range in["image"].Bytes {
				if imgs[i], err = imagedata.DecodeImage(b); err != nil {
					return nil, api.Invalid(fmt.Errorf("input \"image\": element %d: %w", i, err))
				}
			}
			ex, err = Images(ctx, tm, imgs, opts)
		}
		if err != nil {
			return nil, inputError(ctx, err)
		}
		for i := range ex {
			out = append(out, &ex[i])
		}
	default:
		return nil, api.Invalid(m.wrongKind("Inputs", "a text or image model"))
	}
	return out, nil
}

// inputError marks an explanation's failure as the request's fault unless
// its context ended: the options or the input were wrong.
func inputError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return err
	}
	return api.Invalid(err)
}

// Passes is how many rows of attribution machine work explaining n inputs
// of tm with opts takes — Steps + 2 per input for Integrated Gradients,
// one for saliency, one plus one per hidden part for occlusion (at most
// MaxLen tokens of a text, the windows over an image) — known before any
// of it is done, so that a server can bound a request's work. Invalid
// options are an api.InputError.
func Passes(tm *tapeml.Model, n int, opts Options) (int64, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return 0, api.Invalid(err)
	}
	per := int64(1)
	switch o.Method {
	case MethodIG:
		per = int64(o.Steps) + 2
	case MethodOcclusion:
		codec := unwrap(tm).c.Loaded.Codec
		if t, ok := codec.(kinds.TextEncoder); ok {
			per = 1 + int64(t.MaxLen())
		} else if im, ok := codec.(kinds.ImageEncoder); ok {
			s := im.ImageShape()
			h, w := s[1], s[2]
			win, stride := occlusionWindow(h, w, o)
			ny, nx := (h-win+stride-1)/stride+1, (w-win+stride-1)/stride+1
			per = 1 + int64(ny)*int64(nx)
		}
	}
	return int64(n) * per, nil
}
