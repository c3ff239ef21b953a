package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/atomicfile"
	"github.com/tapeml/tapeml/charts"
	"github.com/tapeml/tapeml/explain"
	"github.com/tapeml/tapeml/imagedata"
)

func explainCmd(e env) *cobra.Command {
	var (
		ckpt, method, quad, baseline, target, out, user, item string
		steps, maxSteps, top, window, stride, sanityLayers    int
		testN, smooth                                         int
		smoothStd                                             float64
		seed                                                  uint64
		asJSON, sanity, force                                 bool
	)
	c := &cobra.Command{
		Use:   "explain --checkpoint DIR [--method ig|saliency|occlusion] [--max-steps N | --quadrature gauss|riemann --steps N] [--baseline pad|zeros|black|blur] [--target CLASS] [--smoothgrad N] [--json] [--out DIR [--force]] [--sanity] INPUT...  (texts, or image files; without INPUT: texts one per line on stdin) | tapeml explain --checkpoint R --user U --item I",
		Short: "explain predictions: token and pixel attributions, recommender neighbours",
		RunE: func(cmd *cobra.Command, inputs []string) error {
			fs := cmd.Flags()
			switch {
			case ckpt == "":
				return usagef("--checkpoint is required")
			case changed(fs, "steps") && steps < 1:
				return usagef("--steps must be at least 1, got %d", steps)
			case changed(fs, "max-steps") && maxSteps < 1:
				return usagef("--max-steps must be at least 1, got %d", maxSteps)
			case changed(fs, "steps") && quad == explain.QuadratureAdaptive:
				return usagef("--steps sets the points of a fixed --quadrature (gauss, riemann); the adaptive quadrature takes --max-steps, a budget")
			case changed(fs, "max-steps") && (quad == explain.QuadratureGauss || quad == explain.QuadratureRiemann || changed(fs, "steps")):
				return usagef("--max-steps is the adaptive quadrature's budget; --quadrature %s takes --steps", map[bool]string{true: quad, false: "gauss"}[quad != ""])
			case top < 1:
				return usagef("--top must be at least 1, got %d", top)
			}
			m, err := tapeml.Load(ckpt)
			if err != nil {
				return err
			}
			if takes(m, "user") {
				if user == "" || item == "" {
					return usagef("recommenders: give --user and --item")
				}
				return explainRecommendation(e, m, user, item, top, asJSON)
			}
			if user != "" || item != "" {
				return usagef("--user and --item are for recommenders; %s is a %s model", ckpt, m.Kind())
			}
			opts := explain.Options{Method: method, Steps: steps, Quadrature: quad, Baseline: baseline, Target: target,
				Window: window, Stride: stride, SmoothGrad: smooth, Seed: seed}
			if quad == explain.QuadratureAdaptive || (quad == "" && steps == 0) {
				opts.MaxSteps = maxSteps
			}
			if changed(fs, "smoothgrad-std") {
				opts.SmoothGradStd = smoothStd
			}
			x := explainer{e: e, m: m, opts: opts, top: top, json: asJSON, out: out, force: force, sanity: sanity, layers: sanityLayers, seed: seed}
			if x.out != "" {
				// A folder of pages: never the checkpoint's, a link or a file.
				if err := atomicfile.CheckFolder(x.out, "", true, nil, m.Source()); err != nil {
					return err
				}
				if err := os.MkdirAll(x.out, 0o755); err != nil {
					return err
				}
				stop := exitOnInterrupt(e, "explain")
				defer stop()
			}
			if x.sanity {
				if x.layers == 0 {
					x.layers = len(explain.Layers(m)) - 1
				}
				if x.random, err = explain.Randomized(m, x.layers, x.seed); err != nil {
					return err
				}
			}
			if testN < 0 || (testN > 0 && len(inputs) > 0) {
				return usagef("--test takes a positive count and no INPUTs")
			}
			if takes(m, "image") {
				if testN > 0 {
					return x.testImages(testN)
				}
				return x.images(inputs, nil)
			}
			texts := inputs
			if testN > 0 {
				in, labels, err := m.TestSample(context.Background(), testN)
				if err != nil {
					return err
				}
				texts, x.labels = in[0].StringsOf(), labels
				x.names = make([]string, len(texts))
				for i := range x.names {
					x.names[i] = fmt.Sprintf("test example %d", i)
				}
			}
			if len(texts) == 0 {
				sc := bufio.NewScanner(e.stdin)
				sc.Buffer(make([]byte, 1<<20), 64<<20)
				for line := 1; sc.Scan(); line++ {
					if !utf8.Valid(sc.Bytes()) {
						return fmt.Errorf("stdin line %d is not valid UTF-8", line)
					}
					texts = append(texts, sc.Text())
				}
				if err := sc.Err(); err != nil {
					return fmt.Errorf("reading stdin: %w", err)
				}
				if len(texts) == 0 {
					return fmt.Errorf("no texts: give them as arguments or one per line on stdin")
				}
			}
			return x.texts(texts)
		},
	}
	fs := c.Flags()
	fs.StringVar(&ckpt, "checkpoint", "", "checkpoint folder, a run folder (its best checkpoint) or an exported .safetensors file")
	fs.StringVar(&method, "method", explain.MethodIG, "attribution method: ig (Integrated Gradients), saliency (|gradient|) or occlusion")
	fs.StringVar(&quad, "quadrature", "", "ig: adaptive (refine the path where completeness fails; the default), gauss (Gauss–Legendre) or riemann (trapezoid)")
	fs.IntVar(&maxSteps, "max-steps", explain.DefaultMaxSteps, "ig, adaptive quadrature: the most evaluations of the model per input (its budget)")
	fs.IntVar(&steps, "steps", 0, "ig: points of a fixed --quadrature (gauss when --quadrature is not given; default 50)")
	fs.IntVar(&smooth, "smoothgrad", 0, "ig on images: average over this many noisy copies of each image (SmoothGrad's noise tunnel)")
	fs.Float64Var(&smoothStd, "smoothgrad-std", 0.15, "--smoothgrad: the noise's standard deviation, as a fraction of the image's range")
	fs.StringVar(&baseline, "baseline", "", "text: pad (all-padding input, default) or zeros; images: black (default) or blur")
	fs.StringVar(&target, "target", "", "class whose logit is explained (default: the positive class of a binary model, else the predicted class)")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object per input")
	fs.StringVar(&out, "out", "", "write an HTML page per text, or a heat map per image as PNG and SVG, into this folder (named after each input)")
	fs.BoolVar(&force, "force", false, "--out: replace pages and heat maps that exist (default: refuse)")
	fs.IntVar(&top, "top", 5, "how many tokens (or neighbours) to list per input")
	fs.IntVar(&window, "window", 0, "image occlusion: side of the occluded square (default: an eighth of the smaller side)")
	fs.IntVar(&stride, "stride", 0, "image occlusion: step of the square (default: half the window)")
	fs.BoolVar(&sanity, "sanity", false, "also explain with the top layers re-initialized and report the Spearman rank correlation of the two maps")
	fs.IntVar(&sanityLayers, "sanity-layers", 0, "--sanity: how many top layers to re-initialize (default: all but the input layer)")
	fs.Uint64Var(&seed, "seed", 1, "--sanity: seed of the re-initialized weights; --smoothgrad: seed of the noise")
	fs.IntVar(&testN, "test", 0, "explain the first N examples of the run's own test split instead of INPUTs (texts with their label; images written as test-K-LABEL)")
	fs.StringVar(&user, "user", "", "recommenders: the user whose score for --item is explained")
	fs.StringVar(&item, "item", "", "recommenders: the item")
	return c
}

type explainer struct {
	e      env
	m      *tapeml.Model
	opts   explain.Options
	top    int
	json   bool
	out    string
	force  bool
	sanity bool
	layers int
	seed   uint64
	random *tapeml.Model
	labels []string // --test: each input's true class
	names  []string // --test: each input's name ("test example 3")
	used   map[string]bool
}

// context is what a page or figure says of input i besides its
// explanation.
func (x *explainer) context(i int, input string) explain.Context {
	c := explain.Context{Model: x.m.Kind(), Version: fmt.Sprintf("%s (epoch %d)", x.m.Source(), x.m.Meta().Epoch), Input: input}
	if x.labels != nil {
		c.TrueClass = x.labels[i]
	}
	if x.names != nil {
		c.Input = x.names[i]
	}
	return c
}

// outPaths are the files in --out for an output named after its input:
// name (made by fileSafe), then each extension. Two inputs of one
// run that would share a name get -2, -3, …; a file that exists is
// refused unless --force, and a path that is not a regular file always
// is.
func (x *explainer) outPaths(name string, exts ...string) ([]string, error) {
	if x.used == nil {
		x.used = map[string]bool{}
	}
	base := name
	stem := base
	for k := 2; x.used[stem]; k++ {
		stem = fmt.Sprintf("%s-%d", base, k)
	}
	x.used[stem] = true
	var paths []string
	for _, ext := range exts {
		path := filepath.Join(x.out, stem+ext)
		if err := atomicfile.CheckFile(path, x.force); err != nil {
			return nil, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// textStem names text i's page: after the test example, or the text.
func (x *explainer) textStem(i int, text string) string {
	if x.names != nil {
		return fileSafe(fmt.Sprintf("test-%d-%s", i, x.labels[i]))
	}
	return textName(text)
}

// imageStem names an image's figure after its file and the method.
func imageStem(path, method string) string {
	return fileSafe(strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))) + "-" + method
}

// fileSafe makes s a file name: letters, digits, '-' and '_' kept (others
// become '-'), at most 60 bytes.
func fileSafe(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range s {
		ok := unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_'
		switch {
		case ok:
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	out := strings.TrimRight(b.String(), "-")
	if out == "" {
		return "input"
	}
	return out
}

// textName names a text's page after its first words and a digest of
// the whole text, so different texts do not share one.
func textName(text string) string {
	words := strings.Fields(text)
	words = words[:min(6, len(words))]
	sum := sha256.Sum256([]byte(text))
	return fmt.Sprintf("%s-%x", fileSafe(strings.Join(words, " ")), sum[:4])
}

// testImages explains the first n images of the run's test split.
func (x *explainer) testImages(n int) error {
	in, labels, err := x.m.TestSample(context.Background(), n)
	if err != nil {
		return err
	}
	t := in[0] // "images": raw pixels [n, C, H, W]
	n = t.Rows()
	c, h, w := int(t.Shape[1]), int(t.Shape[2]), int(t.Shape[3])
	imgs, names := make([]image.Image, n), make([]string, n)
	for i := range n {
		px := t.FP32[i*c*h*w : (i+1)*c*h*w]
		if c == 1 {
			g := image.NewGray(image.Rect(0, 0, w, h))
			for k, v := range px {
				g.Pix[k] = uint8(v)
			}
			imgs[i] = g
		} else {
			rgba := image.NewRGBA(image.Rect(0, 0, w, h))
			for k := range h * w {
				rgba.Pix[4*k], rgba.Pix[4*k+1], rgba.Pix[4*k+2], rgba.Pix[4*k+3] = uint8(px[k]), uint8(px[h*w+k]), uint8(px[2*h*w+k]), 255
			}
			imgs[i] = rgba
		}
		names[i] = fmt.Sprintf("test-%d-%s", i, labels[i])
	}
	x.labels = labels
	x.names = make([]string, n)
	for i := range x.names {
		x.names[i] = fmt.Sprintf("test example %d", i)
	}
	return x.images(names, imgs)
}

// warn prints the completeness warning of an IG result.
func (x *explainer) warn(what string, a explain.Attribution) {
	if a.Converged() {
		return
	}
	gap := fmt.Sprintf("tapeml explain: warning: %s: |delta| = %.3g is %.1f%% of |f(x) − f(baseline)| = %.3g (over 1%%)",
		what, math.Abs(a.Delta), 100*a.RelativeDelta(), math.Abs(a.FX-a.FBaseline))
	switch {
	case math.Abs(a.Jump) > math.Abs(a.Delta)/2:
		fmt.Fprintf(x.e.stderr, "%s: f jumps by %.3g near α = %.7f along the path, within a piece too narrow for float64 to refine; no gradient follows a jump, so no budget removes it\n", gap, -a.Jump, a.JumpAt)
	case a.Quadrature == explain.QuadratureAdaptive:
		fmt.Fprintf(x.e.stderr, "%s; try a --max-steps above %d\n", gap, a.MaxSteps)
	default:
		fmt.Fprintf(x.e.stderr, "%s; try more --steps\n", gap)
	}
}

func (x *explainer) texts(texts []string) error {
	// Refuse what exists before the work; the names again as written.
	for i, t := range texts {
		if _, err := x.outPaths(x.textStem(i, t), ".html"); err != nil {
			return err
		}
	}
	x.used = nil
	ctx := context.Background()
	ex, err := explain.Texts(ctx, x.m, texts, x.opts)
	if err != nil {
		return err
	}
	var rand []explain.TextExplanation
	if x.sanity {
		if rand, err = explain.Texts(ctx, x.random, texts, x.opts); err != nil {
			return err
		}
	}
	var rhos []float64
	defer func() { // warnings after the output
		for i, t := range ex {
			x.warn(fmt.Sprintf("text %d", i+1), t.Attribution)
		}
	}()
	for i, t := range ex {
		rho := math.NaN()
		if x.sanity {
			a, b := make([]float64, len(t.Tokens)), make([]float64, len(t.Tokens))
			for j := range t.Tokens {
				a[j], b[j] = t.Tokens[j].Score, rand[i].Tokens[j].Score
			}
			rho = explain.Spearman(a, b)
			if !math.IsNaN(rho) {
				rhos = append(rhos, rho)
			}
		}
		page := ""
		if x.out != "" {
			name := x.textStem(i, t.Text)
			paths, err := x.outPaths(name, ".html")
			if err != nil {
				return err
			}
			page = paths[0]
			c := x.context(i, excerpt(t.Text, 60))
			if err := atomicfile.WriteNew(page, x.force, func(w io.Writer) error { return t.WriteHTML(w, c) }); err != nil {
				return err
			}
		}
		if x.json {
			v := map[string]any{"explanation": t, "relative_delta": jsonNumber(t.RelativeDelta()), "converged": t.Converged()}
			if x.labels != nil {
				v["true_class"] = x.labels[i]
			}
			if x.sanity {
				v["sanity_spearman"] = jsonNumber(rho)
			}
			if page != "" {
				v["html"] = page
			}
			if err := printJSON(x.e, v); err != nil {
				return err
			}
			continue
		}
		truth := ""
		if x.labels != nil {
			truth = " [true: " + x.labels[i] + "]"
		}
		fmt.Fprintf(x.e.stdout, "%s (p=%.3f)%s  %q\n", t.Prediction.Class, t.Prediction.Prob, truth, excerpt(t.Text, 60))
		order := make([]int, len(t.Tokens))
		for j := range order {
			order[j] = j
		}
		sort.SliceStable(order, func(a, b int) bool { return math.Abs(t.Tokens[order[a]].Score) > math.Abs(t.Tokens[order[b]].Score) })
		for _, j := range order[:min(x.top, len(order))] {
			tok := t.Tokens[j]
			side := "against"
			switch {
			case tok.Score == 0:
				side = "-"
			case t.Favours(tok.Score):
				side = "for"
			}
			fmt.Fprintf(x.e.stdout, "  %+9.4f  %-7s %s\n", tok.Score, side, tok.Token)
		}
		x.summary(t.Attribution, rho)
		if t.Truncated > 0 {
			fmt.Fprintf(x.e.stdout, "  truncated: the model saw %d tokens; %d words at the %s were cut\n", len(t.Tokens), t.Truncated, t.TruncatedFrom)
		}
		if page != "" {
			fmt.Fprintf(x.e.stdout, "  page: %s\n", page)
		}
	}
	x.sanitySummary(rhos)
	return nil
}

// summary prints an explanation's method line.
func (x *explainer) summary(a explain.Attribution, rho float64) {
	if a.Method == explain.MethodIG {
		rule := fmt.Sprintf("%d %s points", a.Steps, a.Quadrature)
		if a.Quadrature == explain.QuadratureAdaptive {
			rule = fmt.Sprintf("adaptive, %d evaluations of %d", a.Evaluations, a.MaxSteps)
			if a.Evaluations64 > 0 {
				rule += fmt.Sprintf(" (%d in float64)", a.Evaluations64)
			}
		}
		if a.SmoothGrad > 0 {
			rule += fmt.Sprintf(", SmoothGrad over %d noisy copies", a.SmoothGrad)
		}
		fmt.Fprintf(x.e.stdout, "  ig (%s, baseline %s): logit of %s %.4g, at the baseline %.4g, delta %.3g (%.2f%%)\n",
			rule, a.Baseline, a.Target, a.FX, a.FBaseline, a.Delta, 100*a.RelativeDelta())
	} else {
		fmt.Fprintf(x.e.stdout, "  %s (baseline %s): logit of %s %.4g\n", a.Method, a.Baseline, a.Target, a.FX)
	}
	if x.sanity {
		fmt.Fprintf(x.e.stdout, "  sanity: Spearman %.3f with the top %d layers re-initialized\n", rho, x.layers)
	}
}

func (x *explainer) sanitySummary(rhos []float64) {
	if !x.sanity || x.json || len(rhos) == 0 {
		return
	}
	mean := 0.0
	for _, r := range rhos {
		mean += r
	}
	mean /= float64(len(rhos))
	fmt.Fprintf(x.e.stdout, "sanity: mean Spearman %.3f over %d inputs between the trained model's map and the map with its top %d layers (%s) re-initialized; a low value means the explanation depends on the learned weights\n",
		mean, len(rhos), x.layers, strings.Join(explain.Layers(x.m)[len(explain.Layers(x.m))-x.layers:], ", "))
}

// images explains image files, or imgs named by paths when given.
func (x *explainer) images(paths []string, imgs []image.Image) error {
	if len(paths) == 0 {
		return fmt.Errorf("no images: give PNG or JPEG files as arguments")
	}
	for _, path := range paths {
		if _, err := x.outPaths(imageStem(path, x.opts.Method), "."+charts.PNG, "."+charts.SVG); err != nil {
			return err
		}
	}
	x.used = nil
	if imgs == nil {
		imgs = make([]image.Image, len(paths))
		for i, path := range paths {
			var err error
			if imgs[i], err = imagedata.ReadImage(path); err != nil {
				return err
			}
		}
	}
	ctx := context.Background()
	ex, err := explain.Images(ctx, x.m, imgs, x.opts)
	if err != nil {
		return imageError(err, paths)
	}
	var rand []explain.ImageExplanation
	if x.sanity {
		if rand, err = explain.Images(ctx, x.random, imgs, x.opts); err != nil {
			return imageError(err, paths)
		}
	}
	var rhos []float64
	defer func() { // warnings after the output
		for i, t := range ex {
			x.warn(paths[i], t.Attribution)
		}
	}()
	for i, t := range ex {
		rho := math.NaN()
		if x.sanity {
			rho = explain.Spearman(t.Scores, rand[i].Scores)
			if !math.IsNaN(rho) {
				rhos = append(rhos, rho)
			}
		}
		var heat []string
		if x.out != "" {
			fig, err := t.Figure(x.context(i, paths[i]))
			if err != nil {
				return err
			}
			name := imageStem(paths[i], t.Method)
			if heat, err = x.outPaths(name, "."+charts.PNG, "."+charts.SVG); err != nil {
				return err
			}
			for k, format := range []string{charts.PNG, charts.SVG} {
				if err := atomicfile.WriteNew(heat[k], x.force, func(w io.Writer) error { return fig.Write(w, format) }); err != nil {
					return err
				}
			}
		}
		if x.json {
			v := map[string]any{"path": paths[i], "explanation": t, "relative_delta": jsonNumber(t.RelativeDelta()), "converged": t.Converged()}
			if x.labels != nil {
				v["true_class"] = x.labels[i]
			}
			if x.sanity {
				v["sanity_spearman"] = jsonNumber(rho)
			}
			if heat != nil {
				v["heatmap"], v["heatmap_svg"] = heat[0], heat[1]
			}
			if err := printJSON(x.e, v); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(x.e.stdout, "%s: %s (p=%.3f)\n", paths[i], t.Prediction.Class, t.Prediction.Prob)
		if x.labels != nil {
			fmt.Fprintf(x.e.stdout, "  true class: %s\n", x.labels[i])
		}
		if t.Note != "" {
			fmt.Fprintf(x.e.stdout, "  %s\n", t.Note)
		}
		x.summary(t.Attribution, rho)
		if heat != nil {
			fmt.Fprintf(x.e.stdout, "  heat map: %s\n", strings.Join(heat, ", "))
		}
	}
	x.sanitySummary(rhos)
	return nil
}

func explainRecommendation(e env, m *tapeml.Model, user, item string, top int, asJSON bool) error {
	r, err := explain.Recommendation(context.Background(), m, user, item)
	if err != nil {
		return err
	}
	if len(r.Contributions) > top {
		r.Contributions = r.Contributions[:top]
	}
	if asJSON {
		return printJSON(e, r)
	}
	what, given := "predicted", "rating"
	if r.Implicit {
		what, given = "preference score", "weight"
	}
	fmt.Fprintf(e.stdout, "user %s, item %s: %s %.3f (%s)\n", user, item, what, r.Prediction, r.Method)
	if r.Centre != 0 {
		fmt.Fprintf(e.stdout, "  %8.4f  centre (the mean rating the neighbours' terms are added to)\n", r.Centre)
	}
	for _, c := range r.Contributions {
		name := c.ID
		if c.Title != "" {
			name += " " + c.Title
		}
		fmt.Fprintf(e.stdout, "  %+8.4f  %s %s (similarity %.3f, %s %.1f)\n", c.Contribution, c.Kind, name, c.Similarity, given, c.Rating)
	}
	if r.Note != "" {
		fmt.Fprintf(e.stdout, "  %s\n", r.Note)
	}
	return nil
}
