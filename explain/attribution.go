package explain

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/api"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/internal/core"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/metrics"
	"gonum.org/v1/gonum/integrate/quad"
)

// Attribution methods of Options.Method.
const (
	MethodIG        = "ig"        // Integrated Gradients (Sundararajan et al. 2017)
	MethodSaliency  = "saliency"  // |d target / d input| (Simonyan et al. 2013)
	MethodOcclusion = "occlusion" // target(x) − target(x with a part replaced by the baseline)
)

// Quadratures of Integrated Gradients' path integral.
const (
	// QuadratureAdaptive refines the path where the completeness residual
	// is, within a budget of MaxSteps evaluations (adaptive.go); the
	// default.
	QuadratureAdaptive = "adaptive"
	QuadratureGauss    = "gauss"   // Gauss–Legendre nodes and weights on [0, 1], Steps of them
	QuadratureRiemann  = "riemann" // trapezoid rule on Steps evenly spaced points, ends included
)

// Baselines: the input Integrated Gradients integrates from and occlusion
// fills with.
const (
	BaselinePad   = "pad"   // text: every position holds the padding id's embedding (default)
	BaselineZeros = "zeros" // text: zero embeddings
	BaselineBlack = "black" // images: raw zeros, normalized as at training (default)
	BaselineBlur  = "blur"  // images: the image under a Gaussian blur (σ = a tenth of its larger side)
)

// Options chooses an attribution method. The zero value is
// Integrated Gradients by the adaptive rule from the default baseline,
// explaining the default target.
type Options struct {
	Method string // MethodIG (default), MethodSaliency or MethodOcclusion
	// Quadrature is IG's rule: QuadratureAdaptive (the default, unless
	// Steps is set: then QuadratureGauss), QuadratureGauss or
	// QuadratureRiemann.
	Quadrature string
	// Steps is a fixed rule's points; default 50.
	Steps int
	// MaxSteps is the adaptive rule's budget: the most evaluations of the
	// model per input, its two ends included; default DefaultMaxSteps.
	MaxSteps int
	// Tolerance is the adaptive rule's goal: it refines until the sum of
	// its panels' residuals, which bounds |delta|, is within Tolerance ·
	// |f(x) − f(baseline)|; default DefaultTolerance.
	Tolerance float64
	Baseline  string // text: BaselinePad (default) or BaselineZeros; images: BaselineBlack (default) or BaselineBlur
	// Target is the class whose logit is explained. Default: the positive
	// class of a binary text model, the predicted class of a multiclass
	// model. For a binary model, naming the other class explains the
	// negated logit (that class's log-odds).
	Target string
	// Window and Stride shape image occlusion's sliding square (defaults:
	// an eighth of the smaller side, at least 2, and half the window).
	Window, Stride int
	// SmoothGrad, when > 0, averages IG over that many copies of each
	// image with Gaussian noise added (SmoothGrad's noise tunnel, as
	// Captum's NoiseTunnel over IntegratedGradients); images only.
	SmoothGrad int
	// SmoothGradStd is the noise's standard deviation as a fraction of
	// the normalized image's range (max − min); default 0.15, within
	// the 10–20% Smilkov et al. (2017) found best.
	SmoothGradStd float64
	// Seed seeds SmoothGrad's noise, so an explanation can be repeated;
	// default 1.
	Seed uint64
}

// Limits of Options.
const (
	maxFixedSteps    = 10000
	maxAdaptiveSteps = 100000
	maxSmoothGrad    = 1000
)

func (o Options) withDefaults() (Options, error) {
	if o.Method == "" {
		o.Method = MethodIG
	}
	if o.Quadrature == "" {
		o.Quadrature = QuadratureAdaptive
		if o.Steps != 0 {
			o.Quadrature = QuadratureGauss
		}
	}
	switch o.Method {
	case MethodIG, MethodSaliency, MethodOcclusion:
	default:
		return o, fmt.Errorf("explain: unknown attribution method %q (want %s, %s or %s)", o.Method, MethodIG, MethodSaliency, MethodOcclusion)
	}
	switch o.Quadrature {
	case QuadratureAdaptive:
		if o.MaxSteps == 0 {
			o.MaxSteps = DefaultMaxSteps
		}
		if o.Tolerance == 0 {
			o.Tolerance = DefaultTolerance
		}
		switch {
		case o.Steps != 0:
			return o, fmt.Errorf("explain: Steps is %d: the adaptive quadrature takes MaxSteps, a budget; Steps sets the points of the gauss and riemann rules", o.Steps)
		case o.MaxSteps < minAdaptiveSteps || o.MaxSteps > maxAdaptiveSteps:
			return o, fmt.Errorf("explain: MaxSteps is %d; the adaptive quadrature needs %d to %d evaluations", o.MaxSteps, minAdaptiveSteps, maxAdaptiveSteps)
		case !(o.Tolerance > 0 && o.Tolerance < 1):
			return o, fmt.Errorf("explain: Tolerance is %v; want a fraction in (0, 1)", o.Tolerance)
		}
	case QuadratureGauss, QuadratureRiemann:
		if o.Steps == 0 {
			o.Steps = 50
		}
		switch {
		case o.Steps < 1:
			return o, fmt.Errorf("explain: Steps is %d; Integrated Gradients needs at least 1 point", o.Steps)
		case o.Steps > maxFixedSteps:
			return o, fmt.Errorf("explain: Steps is %d; at most %d", o.Steps, maxFixedSteps)
		case o.MaxSteps != 0 || o.Tolerance != 0:
			return o, fmt.Errorf("explain: MaxSteps and Tolerance are for the adaptive quadrature, not %s", o.Quadrature)
		case o.Method == MethodIG && o.Quadrature == QuadratureRiemann && o.Steps < 2:
			return o, fmt.Errorf("explain: the trapezoid rule needs at least 2 steps, got %d", o.Steps)
		}
	default:
		return o, fmt.Errorf("explain: unknown quadrature %q (want %s, %s or %s)", o.Quadrature, QuadratureAdaptive, QuadratureGauss, QuadratureRiemann)
	}
	if o.SmoothGrad != 0 || o.SmoothGradStd != 0 {
		if o.SmoothGradStd == 0 {
			o.SmoothGradStd = 0.15
		}
		switch {
		case o.Method != MethodIG:
			return o, fmt.Errorf("explain: SmoothGrad averages Integrated Gradients, not %s", o.Method)
		case o.SmoothGrad < 1 || o.SmoothGrad > maxSmoothGrad:
			return o, fmt.Errorf("explain: SmoothGrad is %d samples; want 1 to %d", o.SmoothGrad, maxSmoothGrad)
		case !(o.SmoothGradStd > 0 && o.SmoothGradStd <= 1):
			return o, fmt.Errorf("explain: SmoothGradStd is %v; want a fraction of the image's range in (0, 1]", o.SmoothGradStd)
		}
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Window < 0 || o.Stride < 0 {
		return o, fmt.Errorf("explain: occlusion window %d and stride %d must not be negative", o.Window, o.Stride)
	}
	return o, nil
}

// Attribution is what every explanation carries besides its scores.
type Attribution struct {
	Method     string `json:"method"`
	Baseline   string `json:"baseline"`
	Quadrature string `json:"quadrature,omitempty"` // IG only
	Steps      int    `json:"steps,omitempty"`      // IG's fixed rules: their points
	MaxSteps   int    `json:"max_steps,omitempty"`  // IG's adaptive rule: its budget
	// Evaluations is how many times IG evaluated the model along the path,
	// its two ends included (over all the noisy copies, for SmoothGrad).
	Evaluations int `json:"evaluations,omitempty"`
	// Evaluations64 is how many of Evaluations the adaptive rule made in
	// float64, on pieces of the path narrower than float32 resolves.
	Evaluations64 int `json:"evaluations_float64,omitempty"`
	// SmoothGrad and SmoothGradStd are the noisy copies IG was averaged
	// over and their noise (a fraction of the image's range); FX and
	// Delta are then means over the copies.
	SmoothGrad    int            `json:"smoothgrad,omitempty"`
	SmoothGradStd float64        `json:"smoothgrad_std,omitempty"`
	Prediction    api.Prediction `json:"prediction"`
	// Target is the class whose logit is explained; Sign is -1 when a
	// binary model's negative class is the target (its logit negated).
	Target string  `json:"target"`
	Sign   float64 `json:"sign"`
	// FX and FBaseline are the explained logit (negated when Sign is -1)
	// at the input and at the baseline (IG; FX alone for saliency and
	// occlusion).
	FX        float64 `json:"f_x"`
	FBaseline float64 `json:"f_baseline"`
	// Delta is IG's completeness gap: sum(attributions) − (FX − FBaseline).
	Delta float64 `json:"delta"`
	// Jump is the part of Delta the adaptive rule left in pieces of the
	// path too narrow for float64 to refine, at JumpAt (α): there f itself
	// jumps, which no gradient follows and no budget removes.
	Jump   float64 `json:"jump,omitempty"`
	JumpAt float64 `json:"jump_at,omitempty"`
}

// describe records how IG was computed.
func (a *Attribution) describe(o Options) {
	if o.Method != MethodIG {
		return
	}
	a.Quadrature, a.Steps, a.MaxSteps = o.Quadrature, o.Steps, o.MaxSteps
	a.SmoothGrad = o.SmoothGrad
	if o.SmoothGrad > 0 {
		a.SmoothGradStd = o.SmoothGradStd
	}
}

// RelativeDelta is |Delta| / |FX − FBaseline| (0 when both are 0): IG
// should keep it within 1%; more Steps shrink it.
func (a Attribution) RelativeDelta() float64 {
	d := math.Abs(a.FX - a.FBaseline)
	if d == 0 {
		if a.Delta == 0 {
			return 0
		}
		return math.Inf(1)
	}
	return math.Abs(a.Delta) / d
}

// Converged reports whether an IG result is complete within 1%; results of
// the other methods have no completeness property and report true.
func (a Attribution) Converged() bool {
	return a.Method != MethodIG || a.RelativeDelta() <= 0.01
}

// quadrature returns IG's points in [0, 1] and their weights.
func quadrature(kind string, steps int) (alphas, weights []float64) {
	alphas, weights = make([]float64, steps), make([]float64, steps)
	if kind == QuadratureRiemann {
		// Captum's riemann_trapezoid: evenly spaced points, ends included,
		// ends weighted by half.
		if steps == 1 {
			return []float64{1}, []float64{1}
		}
		h := 1 / float64(steps-1)
		for i := range alphas {
			alphas[i], weights[i] = float64(i)*h, h
		}
		weights[0], weights[steps-1] = h/2, h/2
		return alphas, weights
	}
	quad.Legendre{}.FixedLocations(alphas, weights, 0, 1)
	// gonum lists the nodes from 1 down; integrate from the baseline up.
	slices.Reverse(alphas)
	slices.Reverse(weights)
	return alphas, weights
}

// attrPool keeps a model's attribution machines (graph.Eval graphs with
// gradients at the embedding output or the input). Each call borrows one,
// so any number of goroutines can explain at once; at most GOMAXPROCS
// machines are compiled, under the runtime's compile lock.
type attrPool struct {
	*core.Pool[*graph.AttributionMachine]
	// What the adaptive rule's float64 twin (float64.go) is built from,
	// and the right to hold one: one twin of a model at a time.
	build  graph.BuildFunc
	params *graph.Params
	lock   *sync.Mutex
	twins  chan struct{}
}

func newAttrPool(build graph.BuildFunc, params *graph.Params, rows int, lock *sync.Mutex) *attrPool {
	return &attrPool{Pool: core.NewPool(runtime.GOMAXPROCS(0), func() (*graph.AttributionMachine, error) {
		lock.Lock()
		defer lock.Unlock()
		m, err := graph.CompileAttribution(build, params, rows)
		if err != nil {
			return nil, fmt.Errorf("compiling the attribution graph: %w", err)
		}
		return m, nil
	}), build: build, params: params, lock: lock, twins: make(chan struct{}, 1)}
}

// attrTask is a stream of rows for attribution machines: fill writes row
// i's model inputs (ids: the token ids of a text model, or nil; point: the
// embedding output or the image; sel: the weight of each output), done
// reads its outputs and gradient (valid during the call only).
type attrTask struct {
	rows int
	fill func(i int, ids, point, sel []float32)
	done func(i int, out, grad []float32)
}

// run computes a task's rows in batches on one borrowed machine; ctx is
// checked between batches.
func (p *attrPool) run(ctx context.Context, t attrTask) error {
	m, err := p.Get(ctx)
	if err != nil {
		return err
	}
	defer p.Put(m)
	var ids, points []float32
	pointT := m.Embedded()
	if pointT != nil {
		ids, points = m.Inputs()[0].Float32s(), pointT.Float32s()
	} else {
		points = m.Inputs()[0].Float32s()
	}
	sel := m.Select().Float32s()
	pw, k := len(points)/m.N, m.Width()
	iw := 0
	if ids != nil {
		iw = len(ids) / m.N
	}
	for from := 0; from < t.rows; from += m.N {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(m.N, t.rows-from)
		for r := range n {
			var idr []float32
			if ids != nil {
				idr = ids[r*iw : (r+1)*iw]
			}
			t.fill(from+r, idr, points[r*pw:(r+1)*pw], sel[r*k:(r+1)*k])
		}
		// Spare rows: valid inputs (id 0, zeros) that select nothing.
		clear(points[n*pw:])
		clear(sel[n*k:])
		if ids != nil {
			clear(ids[n*iw:])
		}
		if err := m.Run(); err != nil {
			return err
		}
		out, grad := m.Output().Float32s(), m.Grad().Float32s()
		for r := range n {
			t.done(from+r, out[r*k:(r+1)*k], grad[r*pw:(r+1)*pw])
		}
	}
	return nil
}

// attrExample is one input to attribute: x and its baseline (both the
// embedding output of a text or the normalized image), the ids a text
// model also reads, and the output weights of the explained target.
type attrExample struct {
	ids     []float32
	x, base []float32
	sel     []float32
	// occlude lists, for occlusion, each part's positions in x (a text's
	// token, an image window); nil for the other methods.
	occlude [][]int
}

// attrResult is one example's raw attribution, per element of x.
type attrResult struct {
	attr          []float64 // per element of x
	fx, fbase     float64
	delta         float64
	evals         int       // IG: evaluations of the model
	evals64       int       // IG, adaptive: how many of evals were in float64
	jump, jumpAt  float64   // IG, adaptive: the residual not even float64 resolves, and where
	occlusionDrop []float64 // per occluded part: f(x) − f(x with the part at the baseline)
}

// attribute runs a method over examples.
func (p *attrPool) attribute(ctx context.Context, o Options, exs []attrExample) ([]attrResult, error) {
	res := make([]attrResult, len(exs))
	for i := range res {
		res[i].attr = make([]float64, len(exs[i].x))
	}
	fillBase := func(e *attrExample, ids, sel []float32) {
		copy(ids, e.ids)
		copy(sel, e.sel)
	}
	switch {
	case o.Method == MethodIG && o.Quadrature == QuadratureAdaptive:
		if err := p.adaptive(ctx, o, exs, res); err != nil {
			return nil, err
		}
	case o.Method == MethodIG:
		alphas, weights := quadrature(o.Quadrature, o.Steps)
		per := len(alphas) + 2 // the quadrature points, then the baseline and the input
		err := p.run(ctx, attrTask{
			rows: len(exs) * per,
			fill: func(i int, ids, point, sel []float32) {
				e := &exs[i/per]
				fillBase(e, ids, sel)
				j := i % per
				switch {
				case j == len(alphas):
					copy(point, e.base)
				case j == len(alphas)+1:
					copy(point, e.x)
				default:
					a := float32(alphas[j])
					for k, b := range e.base {
						point[k] = b + a*(e.x[k]-b)
					}
				}
			},
			done: func(i int, out, grad []float32) {
				e, r := &exs[i/per], &res[i/per]
				switch j := i % per; j {
				case len(alphas):
					r.fbase = dotSel(out, e.sel)
				case len(alphas) + 1:
					r.fx = dotSel(out, e.sel)
				default:
					w := weights[j]
					for k, g := range grad {
						r.attr[k] += w * float64(g)
					}
				}
			},
		})
		if err != nil {
			return nil, err
		}
		for i := range res {
			e, r := &exs[i], &res[i]
			sum := 0.0
			for k, g := range r.attr {
				r.attr[k] = g * (float64(e.x[k]) - float64(e.base[k]))
				sum += r.attr[k]
			}
			r.delta = sum - (r.fx - r.fbase)
			r.evals = per
		}
	case o.Method == MethodSaliency:
		err := p.run(ctx, attrTask{
			rows: len(exs),
			fill: func(i int, ids, point, sel []float32) {
				fillBase(&exs[i], ids, sel)
				copy(point, exs[i].x)
			},
			done: func(i int, out, grad []float32) {
				res[i].fx = dotSel(out, exs[i].sel)
				for k, g := range grad {
					res[i].attr[k] = math.Abs(float64(g))
				}
			},
		})
		if err != nil {
			return nil, err
		}
	case o.Method == MethodOcclusion:
		// Row 0 of each example is the input itself, then one row per part.
		starts := make([]int, len(exs)+1)
		for i, e := range exs {
			starts[i+1] = starts[i] + 1 + len(e.occlude)
			res[i].occlusionDrop = make([]float64, len(e.occlude))
		}
		which := func(i int) (int, int) {
			e, _ := slices.BinarySearch(starts, i+1)
			return e - 1, i - starts[e-1]
		}
		outs := make([]float64, starts[len(exs)])
		err := p.run(ctx, attrTask{
			rows: starts[len(exs)],
			fill: func(i int, ids, point, sel []float32) {
				ei, j := which(i)
				e := &exs[ei]
				fillBase(e, ids, sel)
				copy(point, e.x)
				if j > 0 {
					for _, k := range e.occlude[j-1] {
						point[k] = e.base[k]
					}
				}
			},
			done: func(i int, out, _ []float32) {
				ei, _ := which(i)
				outs[i] = dotSel(out, exs[ei].sel)
			},
		})
		if err != nil {
			return nil, err
		}
		for i := range res {
			res[i].fx = outs[starts[i]]
			for j := range exs[i].occlude {
				res[i].occlusionDrop[j] = res[i].fx - outs[starts[i]+1+j]
			}
		}
	}
	return res, nil
}

// model is what explanations need of a loaded model.
type model struct {
	c    *core.Model
	name string // for errors: "textcnn", with the path
}

func unwrap(m *tapeml.Model) model {
	c := core.Unwrap(m)
	return model{c: c, name: c.Path}
}

// checkContext refuses a nil context, which would panic at the first
// check of cancellation.
func checkContext(ctx context.Context, method string) error {
	if ctx == nil {
		return fmt.Errorf("explain: %s: nil context (pass context.Background())", method)
	}
	return nil
}

// wrongKind is the error of an explanation a model cannot give.
func (m model) wrongKind(method, want string) error {
	return fmt.Errorf("explain: %s needs %s; %s is a %s model", method, want, m.c.Path, m.c.Loaded.Name())
}

// attrKey keys a model's attribution pool in its core.Model.Cache.
type attrKey struct{}

// attribution returns the model's attribution pool, made on first use.
func (m model) attribution() (*attrPool, error) {
	l := m.c.Loaded
	_, classifier := l.Codec.(kinds.Classifier)
	if m.c.Run == nil || !classifier || l.Network.Task() == metrics.Regression {
		return nil, m.wrongKind("Explain", "a text or image classifier")
	}
	if p, ok := m.c.Cache.Load(attrKey{}); ok {
		return p.(*attrPool), nil
	}
	p, _ := m.c.Cache.LoadOrStore(attrKey{}, newAttrPool(l.Network.Build, l.Params, 32, &m.c.Run.CompileMu))
	return p.(*attrPool), nil
}

// target resolves the explained class: the output weights, the class
// name and the sign. pred is the model's prediction.
func (m model) target(target string, pred api.Prediction) ([]float32, string, float64, error) {
	sel, name, sign, err := m.c.Loaded.Codec.(kinds.Classifier).Target(target, pred)
	if err != nil {
		return nil, "", 0, fmt.Errorf("explain: %w", err)
	}
	return sel, name, sign, nil
}
