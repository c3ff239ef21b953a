package explain

import (
	"fmt"
	"html/template"
	"image"
	"image/color"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/tapeml/tapeml/charts"
)

// Favours reports whether a score speaks for the predicted class: the
// explained target is the predicted class and the score is positive, or
// the target is another class and the score is negative.
func (a Attribution) Favours(score float64) bool {
	if a.Target == a.Prediction.Class {
		return score > 0
	}
	return score < 0
}

// Context is what a page or figure says about an explanation besides the
// explanation itself.
type Context struct {
	Model     string // the model: its kind, "textcnn"
	Version   string // which one: a checkpoint's folder and epoch, a served version
	Input     string // the input's name: a file, "test example 3"
	TrueClass string // the input's true class; "" when unknown
}

// headline is the first line of a page or figure: the prediction and,
// when known, the true class.
func (a Attribution) headline(c Context) string {
	s := fmt.Sprintf("predicted %s (p = %.3f)", a.Prediction.Class, a.Prediction.Prob)
	if c.TrueClass != "" {
		s += " · true " + c.TrueClass
		if c.TrueClass != a.Prediction.Class {
			s += " (wrong)"
		}
	}
	return s
}

// provenance says which model explained which input.
func (c Context) provenance() string {
	var parts []string
	for _, s := range []string{c.Model, c.Version, c.Input} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " · ")
}

// methodLine says how the attributions were computed and how complete
// they are.
func (a Attribution) methodLine() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, baseline %s", a.Method, a.Baseline)
	if a.Method == MethodIG {
		switch {
		case a.Quadrature == QuadratureAdaptive:
			fmt.Fprintf(&b, ", adaptive quadrature: %d evaluations (budget %d)", a.Evaluations, a.MaxSteps)
			if a.Evaluations64 > 0 {
				fmt.Fprintf(&b, ", %d of them in float64", a.Evaluations64)
			}
		default:
			fmt.Fprintf(&b, ", %d %s points", a.Steps, a.Quadrature)
		}
		if a.SmoothGrad > 0 {
			fmt.Fprintf(&b, ", SmoothGrad over %d noisy copies (std %.2g of the range)", a.SmoothGrad, a.SmoothGradStd)
		}
		fmt.Fprintf(&b, "; f(x) %.4g, f(baseline) %.4g, delta %.3g (%.2f%%)", a.FX, a.FBaseline, a.Delta, 100*a.RelativeDelta())
	}
	return b.String()
}

// WriteHTML writes the explanation as a self-contained page: the model,
// the prediction and true class, the tokens the model saw coloured by
// their attribution to the explained class (green for, red against,
// white 0) with a numeric legend, the method and its completeness, and
// the words the model did not know, each once with its count.
func (e TextExplanation) WriteHTML(w io.Writer, c Context) error {
	largest := 0.0
	for _, t := range e.Tokens {
		largest = max(largest, math.Abs(t.Score))
	}
	cmap := charts.NewDiverging(largest)
	colour := func(v float64) template.CSS {
		col, err := cmap.At(v)
		if err != nil {
			return "#ffffff"
		}
		return template.CSS(charts.Hex(col))
	}
	type token struct {
		Text, Title string
		Colour      template.CSS
	}
	type swatch struct {
		Label  string
		Colour template.CSS
	}
	type unknown struct {
		Word  string
		Count int
	}
	page := struct {
		Headline, Provenance, Method, Target, Truncated string
		Tokens                                          []token
		Legend                                          []swatch
		Unknown                                         []unknown
		UnknownTotal                                    int
		Converged, Negated                              bool
	}{Headline: e.headline(c), Provenance: c.provenance(), Method: e.methodLine(), Target: e.Target,
		Converged: e.Converged(), Negated: e.Sign < 0, UnknownTotal: len(e.Unknown)}
	for _, t := range e.Tokens {
		page.Tokens = append(page.Tokens, token{Text: t.Token, Title: fmt.Sprintf("%+.4g", t.Score), Colour: colour(t.Score)})
	}
	const swatches = 9
	for i := range swatches {
		v := largest * (2*float64(i)/(swatches-1) - 1)
		label := fmt.Sprintf("%+.2g", v)
		if i == swatches/2 {
			label = "0"
		}
		page.Legend = append(page.Legend, swatch{Label: label, Colour: colour(v)})
	}
	for _, word := range e.Unknown {
		if i := slices.IndexFunc(page.Unknown, func(u unknown) bool { return u.Word == word }); i >= 0 {
			page.Unknown[i].Count++
		} else {
			page.Unknown = append(page.Unknown, unknown{Word: word, Count: 1})
		}
	}
	slices.SortStableFunc(page.Unknown, func(a, b unknown) int { return b.Count - a.Count })
	if e.Truncated > 0 {
		page.Truncated = fmt.Sprintf("The text was truncated to the model's length: %d words at its %s were not seen and are not shown.", e.Truncated, e.TruncatedFrom)
	}
	return pageTemplate.Execute(w, page)
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>tapeml explain: {{.Headline}}</title>
<style>
body{font:16px/1.9 system-ui,sans-serif;max-width:50em;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.4em;margin-bottom:.2em}
.t{padding:.15em .2em;border-radius:.25em}
.meta{font-size:.85em;color:#555;line-height:1.5}
.warn{color:#a40}
.legend{display:flex;align-items:center;gap:.15em;font-size:.8em;margin:.5em 0 1em}
.legend span{display:inline-block;min-width:3.6em;text-align:center;border-radius:.2em;padding:0 .2em}
</style></head><body>
<h1>{{.Headline}}</h1>
<p class="meta">{{.Provenance}}</p>
<div class="legend">attribution to {{.Target}}{{if .Negated}} (its log-odds){{end}}:{{range .Legend}} <span style="background:{{.Colour}}">{{.Label}}</span>{{end}}</div>
<p class="meta">green speaks for {{.Target}}, red against it; hover over a word for its score.</p>
<p>{{range $i, $t := .Tokens}}{{if $i}} {{end}}<span class="t" style="background:{{$t.Colour}}" title="{{$t.Title}}">{{$t.Text}}</span>{{end}}</p>
<div class="meta">
<p>{{.Method}}.</p>
{{if not .Converged}}<p class="warn">The attributions do not add up to f(x) − f(baseline) within 1%: give the adaptive quadrature a larger budget of evaluations.</p>
{{end}}{{with .Truncated}}<p>{{.}}</p>
{{end}}{{if .Unknown}}<p>{{.UnknownTotal}} words are not in the model's vocabulary and were not seen by it:{{range $i, $u := .Unknown}}{{if $i}},{{end}} {{$u.Word}}{{if gt $u.Count 1}} ×{{$u.Count}}{{end}}{{end}}.</p>
{{end}}</div>
</body></html>
`))

// Figure draws the explanation with a colour bar (charts.AttributionMap):
// the image as the model saw it, the scores, and the scores over the
// image, titled with the prediction, the true class when known, the model
// and the method.
func (e ImageExplanation) Figure(c Context) (*charts.Figure, error) {
	title := []string{e.headline(c), c.provenance(), e.methodLine()}
	if e.Note != "" {
		title = append(title, e.Note)
	}
	return charts.AttributionMap{Image: e.image(), Width: e.Width, Height: e.Height, Scores: e.Scores, Target: e.Target, Title: title}.Figure()
}

// image is the image the model saw.
func (e ImageExplanation) image() image.Image {
	hw := e.Width * e.Height
	img := image.NewRGBA(image.Rect(0, 0, e.Width, e.Height))
	for k := range hw {
		c := color.RGBA{A: 255}
		if e.Channels == 3 {
			c.R, c.G, c.B = e.Pixels[k], e.Pixels[hw+k], e.Pixels[2*hw+k]
		} else {
			c.R, c.G, c.B = e.Pixels[k], e.Pixels[k], e.Pixels[k]
		}
		img.SetRGBA(k%e.Width, k/e.Width, c)
	}
	return img
}

// MaxHeatMapPixels bounds the pixels of a heat map (HeatMap's width ×
// height): 33,554,432, 128 MiB of RGBA.
const MaxHeatMapPixels = 1 << 25

// HeatMap renders, side by side, the image as the model saw it and the
// same image in gray with the scores blended over it — green where they
// speak for the predicted class, red against, opacity proportional to
// |score| up to its 99th percentile (as Captum clips outliers) — each
// pixel scaled up to a scale×scale square. A scale below 1, or one that
// makes the map larger than MaxHeatMapPixels, is an error. It is the
// compact, text-free form a server returns; Figure is the one to read.
func (e ImageExplanation) HeatMap(scale int) (image.Image, error) {
	h, w, hw := e.Height, e.Width, e.Height*e.Width
	if h < 1 || w < 1 || w > len(e.Scores)/h || len(e.Scores) != hw || len(e.Pixels) != e.Channels*hw || (e.Channels != 1 && e.Channels != 3) {
		return nil, fmt.Errorf("explain: heat map of a %d×%d×%d explanation with %d scores and %d pixels", e.Channels, h, w, len(e.Scores), len(e.Pixels))
	}
	if top := maxScale(h, w); scale < 1 || scale > top {
		return nil, fmt.Errorf("explain: heat map scale %d: want 1 to %d for a %d×%d image (at most %d pixels)", scale, top, w, h, MaxHeatMapPixels)
	}
	abs := make([]float64, len(e.Scores))
	for k, s := range e.Scores {
		abs[k] = math.Abs(s)
	}
	slices.Sort(abs)
	largest := 0.0
	if len(abs) > 0 {
		largest = abs[(len(abs)-1)*99/100]
		if largest == 0 {
			largest = abs[len(abs)-1]
		}
	}
	img := image.NewRGBA(image.Rect(0, 0, 2*w*scale, h*scale))
	square := func(x0, y0 int, c color.RGBA) {
		for dy := range scale {
			for dx := range scale {
				img.SetRGBA(x0+dx, y0+dy, c)
			}
		}
	}
	for y := range h {
		for x := range w {
			k := y*w + x
			orig := color.RGBA{A: 255}
			gray := 0.0
			for ch := range e.Channels {
				gray += float64(e.Pixels[ch*hw+k])
			}
			if e.Channels == 3 {
				orig.R, orig.G, orig.B = e.Pixels[k], e.Pixels[hw+k], e.Pixels[2*hw+k]
			} else {
				orig.R, orig.G, orig.B = e.Pixels[k], e.Pixels[k], e.Pixels[k]
			}
			square(x*scale, y*scale, orig)
			gray /= float64(e.Channels)
			gray = 40 + 0.6*gray // dimmed, so the colours stand out
			a := 0.0
			if largest > 0 {
				a = 0.85 * min(1, math.Abs(e.Scores[k])/largest)
			}
			over := [3]float64{220, 30, 30}
			if e.Favours(e.Scores[k]) {
				over = [3]float64{0, 190, 70}
			}
			c := color.RGBA{A: 255}
			c.R = uint8(math.Round((1-a)*gray + a*over[0]))
			c.G = uint8(math.Round((1-a)*gray + a*over[1]))
			c.B = uint8(math.Round((1-a)*gray + a*over[2]))
			square((w+x)*scale, y*scale, c)
		}
	}
	return img, nil
}

// maxScale is the largest heat map scale of an h×w image: its map,
// 2w·scale × h·scale pixels, stays within MaxHeatMapPixels.
func maxScale(h, w int) int {
	s := int(math.Sqrt(float64(MaxHeatMapPixels) / float64(2*h*w)))
	for s > 0 && 2*w*s*h*s > MaxHeatMapPixels {
		s--
	}
	return s
}
