package explain

import (
	"context"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/api"
	"github.com/tapeml/tapeml/kinds"
)

// ImageExplanation attributes an image model's target logit to the pixels
// of one image, as the model saw it (resized to its input size).
type ImageExplanation struct {
	Attribution
	Channels int `json:"channels"`
	Height   int `json:"height"`
	Width    int `json:"width"`
	// Scores holds one score per pixel, row by row [Height·Width]: IG and
	// saliency summed over channels; occlusion the mean drop of the target
	// over the windows covering the pixel.
	Scores []float64 `json:"scores"`
	// Pixels is the image the model saw, [Channels·Height·Width] in
	// 0..255 (its normalization undone), for overlays.
	Pixels []uint8 `json:"-"`
	Note   string  `json:"note,omitempty"` // e.g. that the image was resized
}

// Images attributes an image model's target logit (by default the
// predicted class's) to each image's pixels. Images are preprocessed as at
// training; a colour image for a grayscale model is an error naming its
// index. Safe for concurrent use.
func Images(ctx context.Context, tm *tapeml.Model, images []image.Image, opts Options) ([]ImageExplanation, error) {
	if err := checkContext(ctx, "Images"); err != nil {
		return nil, err
	}
	m := unwrap(tm)
	enc, ok := m.c.Loaded.Codec.(kinds.ImageEncoder)
	if !ok {
		return nil, m.wrongKind("Images", "an image model (convnet)")
	}
	if len(images) == 0 {
		return nil, fmt.Errorf("explain: Images: no images")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if o.Baseline == "" {
		o.Baseline = BaselineBlack
	}
	if o.Baseline != BaselineBlack && o.Baseline != BaselineBlur {
		return nil, fmt.Errorf("explain: unknown image baseline %q (want %s or %s)", o.Baseline, BaselineBlack, BaselineBlur)
	}
	x, notes, err := enc.EncodeImages(images)
	if err != nil {
		return nil, fmt.Errorf("explain: Images: %w", err)
	}
	return m.explainNormalized(ctx, tm, enc, x, len(images), notes, o)
}

// Pixels is Images for n images given as raw pixel values in
// [0, 255], laid out [n, C, H, W] at the model's size, as tapeml.Model.ClassifyPixels
// takes them.
func Pixels(ctx context.Context, tm *tapeml.Model, pixels []float32, n int, opts Options) ([]ImageExplanation, error) {
	if err := checkContext(ctx, "Pixels"); err != nil {
		return nil, err
	}
	m := unwrap(tm)
	enc, ok := m.c.Loaded.Codec.(kinds.ImageEncoder)
	if !ok {
		return nil, m.wrongKind("Pixels", "an image model (convnet)")
	}
	s := enc.ImageShape()
	if size := s[0] * s[1] * s[2]; n < 1 || n > len(pixels)/size || len(pixels) != n*size { // division first: n·size could overflow
		return nil, fmt.Errorf("explain: Pixels: %d values for %d images of %d×%d×%d", len(pixels), n, s[0], s[1], s[2])
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if o.Baseline == "" {
		o.Baseline = BaselineBlack
	}
	if o.Baseline != BaselineBlack && o.Baseline != BaselineBlur {
		return nil, fmt.Errorf("explain: unknown image baseline %q (want %s or %s)", o.Baseline, BaselineBlack, BaselineBlur)
	}
	x, err := enc.NormalizePixels(pixels, n)
	if err != nil {
		return nil, fmt.Errorf("explain: Pixels: %w", err)
	}
	return m.explainNormalized(ctx, tm, enc, x, n, make([]string, n), o)
}

// explainNormalized explains n images given normalized, [n, C, H, W].
func (m model) explainNormalized(ctx context.Context, tm *tapeml.Model, enc kinds.ImageEncoder, flat []float32, n int, notes []string, o Options) ([]ImageExplanation, error) {
	pool, err := m.attribution()
	if err != nil {
		return nil, err
	}
	s := enc.ImageShape()
	c, h, w := s[0], s[1], s[2]
	xs := make([][]float32, n)
	for i := range xs {
		xs[i] = flat[i*c*h*w : (i+1)*c*h*w]
	}
	preds, err := classifyNormalized(ctx, m, flat, n)
	if err != nil {
		return nil, err
	}
	black, err := enc.NormalizePixels(make([]float32, c*h*w), 1)
	if err != nil {
		return nil, err
	}
	win, stride := occlusionWindow(h, w, o)
	var windows [][]int // pixel offsets (one channel) per window
	if o.Method == MethodOcclusion {
		for y0 := 0; ; y0 += stride {
			y0 = min(y0, h-win)
			for x0 := 0; ; x0 += stride {
				x0 = min(x0, w-win)
				var px []int
				for y := y0; y < y0+win; y++ {
					for x := x0; x < x0+win; x++ {
						px = append(px, y*w+x)
					}
				}
				windows = append(windows, px)
				if x0+win >= w {
					break
				}
			}
			if y0+win >= h {
				break
			}
		}
	}
	out := make([]ImageExplanation, len(xs))
	exs := make([]attrExample, len(xs))
	for i, x := range xs {
		sel, name, sign, err := m.target(o.Target, preds[i])
		if err != nil {
			return nil, err
		}
		base := black
		if o.Baseline == BaselineBlur {
			base = gaussianBlur(x, c, h, w, 0.1*float64(max(h, w)))
		}
		exs[i] = attrExample{x: x, base: base, sel: sel}
		for _, px := range windows {
			part := make([]int, 0, len(px)*c)
			for ch := range c {
				for _, k := range px {
					part = append(part, ch*h*w+k)
				}
			}
			exs[i].occlude = append(exs[i].occlude, part)
		}
		out[i] = ImageExplanation{
			Attribution: Attribution{Method: o.Method, Baseline: o.Baseline, Prediction: preds[i], Target: name, Sign: sign},
			Channels:    c, Height: h, Width: w, Note: notes[i], Pixels: enc.Denormalize(x),
		}
		out[i].Attribution.describe(o)
	}
	res, err := pool.attribute(ctx, o, smoothGrad(exs, o))
	if err != nil {
		return nil, fmt.Errorf("explain: Images: %w", err)
	}
	res = smoothGradMean(res, len(exs), o)
	for i, r := range res {
		e := &out[i]
		e.FX, e.FBaseline, e.Delta, e.Evaluations, e.Evaluations64, e.Jump, e.JumpAt = r.fx, r.fbase, r.delta, r.evals, r.evals64, r.jump, r.jumpAt
		e.Scores = make([]float64, h*w)
		if o.Method == MethodOcclusion {
			cover := make([]float64, h*w)
			for j, px := range windows {
				for _, k := range px {
					e.Scores[k] += r.occlusionDrop[j]
					cover[k]++
				}
			}
			for k := range e.Scores {
				e.Scores[k] /= cover[k]
			}
			continue
		}
		for k, v := range r.attr {
			e.Scores[k%(h*w)] += v
		}
	}
	return out, nil
}

// smoothGrad returns the examples to attribute: exs, or with
// o.SmoothGrad > 0, that many noisy copies of each in turn — Gaussian
// noise of std o.SmoothGradStd times the image's range added to x, the
// baseline kept (Captum's NoiseTunnel) — drawn from a stream of o.Seed
// and the image's index.
func smoothGrad(exs []attrExample, o Options) []attrExample {
	if o.SmoothGrad == 0 {
		return exs
	}
	out := make([]attrExample, 0, len(exs)*o.SmoothGrad)
	for i, e := range exs {
		lo, hi := slices.Min(e.x), slices.Max(e.x)
		std := o.SmoothGradStd * float64(hi-lo)
		rng := rand.New(rand.NewPCG(o.Seed, uint64(i)))
		for range o.SmoothGrad {
			c := e
			c.x = make([]float32, len(e.x))
			for k, v := range e.x {
				c.x[k] = v + float32(std*rng.NormFloat64())
			}
			out = append(out, c)
		}
	}
	return out
}

// smoothGradMean averages each image's noisy copies' results: the mean
// attribution, f(x) and delta (completeness holds for the means), the
// evaluations summed.
func smoothGradMean(res []attrResult, n int, o Options) []attrResult {
	if o.SmoothGrad == 0 {
		return res
	}
	out := make([]attrResult, n)
	s := float64(o.SmoothGrad)
	for i := range out {
		m := &out[i]
		copies := res[i*o.SmoothGrad : (i+1)*o.SmoothGrad]
		m.attr = make([]float64, len(copies[0].attr))
		m.fbase = copies[0].fbase
		largest := 0.0
		for _, c := range copies {
			for k, v := range c.attr {
				m.attr[k] += v / s
			}
			m.fx += c.fx / s
			m.delta += c.delta / s
			m.evals += c.evals
			m.evals64 += c.evals64
			if math.Abs(c.jump) > largest {
				largest, m.jumpAt = math.Abs(c.jump), c.jumpAt
			}
			m.jump += c.jump / s
		}
	}
	return out
}

// classifyNormalized classifies n normalized images.
func classifyNormalized(ctx context.Context, m model, x []float32, n int) ([]api.Prediction, error) {
	logits, err := m.c.Run.Forward(ctx, [][]float32{x}, n)
	if err != nil {
		return nil, fmt.Errorf("explain: Images: %w", err)
	}
	return m.c.Loaded.Codec.(kinds.Classifier).Predictions(logits, n), nil
}

// gaussianBlur blurs each channel of a [C, H, W] image with a separable
// Gaussian of standard deviation sigma, edges clamped. The pipeline's
// normalization is affine per channel, so blurring the normalized image is
// normalizing the blurred one.
func gaussianBlur(x []float32, c, h, w int, sigma float64) []float32 {
	r := max(1, int(math.Ceil(3*sigma)))
	k := make([]float64, 2*r+1)
	sum := 0.0
	for i := range k {
		d := float64(i - r)
		k[i] = math.Exp(-d * d / (2 * sigma * sigma))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	clamp := func(v, n int) int { return min(max(v, 0), n-1) }
	out := make([]float32, len(x))
	tmp := make([]float64, h*w)
	for ch := range c {
		img := x[ch*h*w : (ch+1)*h*w]
		for y := range h {
			for xx := range w {
				s := 0.0
				for i, kv := range k {
					s += kv * float64(img[y*w+clamp(xx+i-r, w)])
				}
				tmp[y*w+xx] = s
			}
		}
		for y := range h {
			for xx := range w {
				s := 0.0
				for i, kv := range k {
					s += kv * tmp[clamp(y+i-r, h)*w+xx]
				}
				out[ch*h*w+y*w+xx] = float32(s)
			}
		}
	}
	return out
}

// occlusionWindow is the side and stride of occlusion's square windows
// over an h×w image: Window and Stride, or by default an eighth of the
// smaller side (at least 2) moved by half of it.
func occlusionWindow(h, w int, o Options) (win, stride int) {
	win, stride = o.Window, o.Stride
	if win == 0 {
		win = max(2, min(h, w)/8)
	}
	win = min(win, h, w)
	if stride == 0 {
		stride = max(1, win/2)
	}
	return win, stride
}
