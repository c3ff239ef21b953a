package main

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/atomicfile"
	"github.com/tapeml/tapeml/explain"
	"github.com/tapeml/tapeml/imagedata"
)

func explainCmd(e env) *cobra.Command {
	var (
		ckpt, method, quad, baseline, target, out, user, item string
		steps, top, window, stride, sanityLayers, testN       int
		seed                                                  uint64
		asJSON, sanity, force                                 bool
	)
	c := &cobra.Command{
		Use:   "explain --checkpoint DIR [--method ig|saliency|occlusion] [--steps 50] [--quadrature gauss|riemann] [--baseline pad|zeros|black|blur] [--target CLASS] [--json] [--out DIR] [--sanity] INPUT...  (texts, or image files; without INPUT: texts one per line on stdin) | tapeml explain --checkpoint R --user U --item I",
		Short: "explain predictions: token and pixel attributions, recommender neighbours",
		RunE: func(_ *cobra.Command, inputs []string) error {
			switch {
			case ckpt == "":
				return usagef("--checkpoint is required")
			case steps < 1:
				return usagef("--steps must be at least 1, got %d", steps)
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
			opts := explain.Options{Method: method, Steps: steps, Quadrature: quad, Baseline: baseline, Target: target, Window: window, Stride: stride}
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
	fs.IntVar(&steps, "steps", 50, "ig: points of the path integral")
	fs.StringVar(&quad, "quadrature", explain.QuadratureGauss, "ig: gauss (Gauss–Legendre) or riemann (trapezoid)")
	fs.StringVar(&baseline, "baseline", "", "text: pad (all-padding input, default) or zeros; images: black (default) or blur")
	fs.StringVar(&target, "target", "", "class whose logit is explained (default: the positive class of a binary model, else the predicted class)")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object per input")
	fs.StringVar(&out, "out", "", "write an HTML page per text or a PNG heat map per image into this folder")
	fs.BoolVar(&force, "force", false, "--out: replace pages and heat maps already there")
	fs.IntVar(&top, "top", 5, "how many tokens (or neighbours) to list per input")
	fs.IntVar(&window, "window", 0, "image occlusion: side of the occluded square (default: an eighth of the smaller side)")
	fs.IntVar(&stride, "stride", 0, "image occlusion: step of the square (default: half the window)")
	fs.BoolVar(&sanity, "sanity", false, "also explain with the top layers re-initialized and report the Spearman rank correlation of the two maps")
	fs.IntVar(&sanityLayers, "sanity-layers", 0, "--sanity: how many top layers to re-initialize (default: all but the input layer)")
	fs.Uint64Var(&seed, "seed", 1, "--sanity: seed of the re-initialized weights")
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
	force  bool // replace existing pages in out
	sanity bool
	layers int
	seed   uint64
	random *tapeml.Model
	labels []string // --test: each input's true class
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
	return x.images(names, imgs)
}

// textPage is the name of the i-th text's page in --out.
func textPage(i int) string { return fmt.Sprintf("text-%d.html", i+1) }

// heatPage is the name of the i-th image's heat map in --out.
func heatPage(i int, path, method string) string {
	base := strings.ReplaceAll(strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)), " ", "_")
	return fmt.Sprintf("%d-%s-%s.png", i+1, base, method)
}

// checkPage refuses to write the page name into --out when something is
// there (unless --force and it is a regular file); checked before the
// explanations are computed, and again before each page is written.
func (x *explainer) checkPage(name string) error {
	if x.out == "" {
		return nil
	}
	return atomicfile.CheckFile(filepath.Join(x.out, name), x.force)
}

// writePage writes the page name into --out and returns its path.
func (x *explainer) writePage(name string, write func(io.Writer) error) (string, error) {
	if err := x.checkPage(name); err != nil {
		return "", err
	}
	path := filepath.Join(x.out, name)
	return path, atomicfile.WriteFile(path, write)
}

// warn prints the completeness warning of an IG result.
func (x *explainer) warn(what string, a explain.Attribution) {
	if a.Converged() {
		return
	}
	fmt.Fprintf(x.e.stderr, "tapeml explain: warning: %s: |delta| = %.3g is %.1f%% of |f(x) − f(baseline)| = %.3g (over 1%%); try more --steps\n",
		what, math.Abs(a.Delta), 100*a.RelativeDelta(), math.Abs(a.FX-a.FBaseline))
}

func (x *explainer) texts(texts []string) error {
	for i := range texts {
		if err := x.checkPage(textPage(i)); err != nil {
			return err
		}
	}
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
			if page, err = x.writePage(textPage(i), func(w io.Writer) error { _, err := w.Write(t.HTML()); return err }); err != nil {
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
		fmt.Fprintf(x.e.stdout, "  ig (%d %s points, baseline %s): logit of %s %.4g, at the baseline %.4g, delta %.3g (%.2f%%)\n",
			a.Steps, a.Quadrature, a.Baseline, a.Target, a.FX, a.FBaseline, a.Delta, 100*a.RelativeDelta())
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
	for i, path := range paths {
		if err := x.checkPage(heatPage(i, path, x.opts.Method)); err != nil {
			return err
		}
	}
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
		heat := ""
		if x.out != "" {
			scale := max(1, (256+t.Width-1)/t.Width)
			img, err := t.HeatMap(scale)
			if err != nil {
				return err
			}
			if heat, err = x.writePage(heatPage(i, paths[i], t.Method), func(w io.Writer) error { return png.Encode(w, img) }); err != nil {
				return err
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
			if heat != "" {
				v["heatmap"] = heat
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
		if heat != "" {
			fmt.Fprintf(x.e.stdout, "  heat map: %s\n", heat)
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
