package serve

import (
	"context"
	"image"
	"net/http"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/kinds"
)

// request is a decoded inference request, whichever protocol it came in.
type request struct {
	texts  []string      // text models
	pixels []float32     // image models: raw [n, C, H, W]
	n      int           // images in pixels
	images []image.Image // image models: decoded PNG/JPEG
	user   string        // recommenders: Recommend(user, topN)
	topN   int
	pairs  []tapeml.UserItem // recommenders: PredictRatings
}

// result is what a model answered.
type result struct {
	preds   []tapeml.Prediction
	recs    []tapeml.Recommendation
	ratings []float32
}

// infer runs a request on a held version. Texts and pixel tensors go
// through the version's batcher; decoded images and recommenders, which
// the runtime does not batch across callers, run directly.
func infer(ctx context.Context, v *version, req *request) (result, error) {
	var (
		r   result
		err error
	)
	switch {
	case req.texts != nil:
		r.preds, err = v.batch.do(ctx, &job{n: len(req.texts), texts: req.texts})
	case req.pixels != nil:
		r.preds, err = v.batch.do(ctx, &job{n: req.n, pixels: req.pixels})
	case req.images != nil:
		r.preds, err = v.m.ClassifyImages(ctx, req.images)
	case req.pairs != nil:
		r.ratings, err = v.m.PredictRatings(ctx, req.pairs)
	default:
		r.recs, err = v.m.Recommend(ctx, req.user, req.topN)
	}
	if err != nil && ctx.Err() != nil {
		return r, errorf(http.StatusServiceUnavailable, "request canceled: %v", ctx.Err())
	}
	return r, err
}

// family says which inputs a version takes.
func (v *version) isText() bool  { return v.family == kinds.Text }
func (v *version) isImage() bool { return v.family == kinds.Image }

// imageShape is an image model's [C, H, W].
func (v *version) imageShape() []int64 {
	var s []int64
	for _, d := range v.m.Inputs()[0].Shape {
		s = append(s, int64(d))
	}
	return s
}
