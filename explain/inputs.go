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
