package explain

import (
	"bytes"
	"fmt"
	"html"
	"image"
	"image/color"
	"math"
	"slices"
	"strings"
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

// HTML renders the explanation as a self-contained page: the tokens the
// model saw, highlighted green where they speak for the predicted class and
// red where they speak against it, the colour's intensity proportional to
// |score| (relative to the largest).
func (e TextExplanation) HTML() []byte {
	var b bytes.Buffer
	largest := 0.0
	for _, t := range e.Tokens {
		largest = max(largest, math.Abs(t.Score))
	}
	fmt.Fprintf(&b, `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>tapeml explain: %s</title>
<style>
body{font:16px/1.9 system-ui,sans-serif;max-width:50em;margin:2em auto;padding:0 1em;color:#222}
.t{padding:.15em .2em;border-radius:.25em}
.meta{font-size:.85em;color:#555;line-height:1.5}
.warn{color:#a40}
.key span{padding:.1em .4em;border-radius:.25em;margin-right:.6em}
</style></head><body>
`, html.EscapeString(e.Prediction.Class))
	fmt.Fprintf(&b, "<h1>%s <small>(p = %.3f)</small></h1>\n", html.EscapeString(e.Prediction.Class), e.Prediction.Prob)
	fmt.Fprintf(&b, `<p class="key"><span style="background:rgba(0,160,60,.6)">for %s</span><span style="background:rgba(220,30,30,.6)">against %s</span></p>`+"\n",
		html.EscapeString(e.Prediction.Class), html.EscapeString(e.Prediction.Class))
	b.WriteString("<p>")
	for i, t := range e.Tokens {
		if i > 0 {
			b.WriteByte(' ')
		}
		alpha := 0.0
		if largest > 0 {
			alpha = 0.85 * math.Abs(t.Score) / largest
		}
		rgb := "220,30,30"
		if e.Favours(t.Score) {
			rgb = "0,160,60"
		}
		fmt.Fprintf(&b, `<span class="t" style="background:rgba(%s,%.3f)" title="%+.4g">%s</span>`, rgb, alpha, t.Score, html.EscapeString(t.Token))
	}
	b.WriteString("</p>\n<div class=\"meta\">\n")
	fmt.Fprintf(&b, "<p>Method %s, baseline %s", html.EscapeString(e.Method), html.EscapeString(e.Baseline))
	if e.Method == MethodIG {
		fmt.Fprintf(&b, ", %d %s points; explained: the logit of %s", e.Steps, html.EscapeString(e.Quadrature), html.EscapeString(e.Target))
		if e.Sign < 0 {
			b.WriteString(" (the negated logit of the binary model)")
		}
		fmt.Fprintf(&b, ", f(x) = %.4g, f(baseline) = %.4g, delta = %.3g (%.2f%% of the difference)", e.FX, e.FBaseline, e.Delta, 100*e.RelativeDelta())
	}
	b.WriteString(".</p>\n")
	if !e.Converged() {
		b.WriteString(`<p class="warn">The attributions do not add up to f(x) − f(baseline) within 1%: rerun with more steps.</p>` + "\n")
	}
	if e.Truncated > 0 {
		fmt.Fprintf(&b, "<p>The text was truncated to the model's length: %d words at its %s were not seen and are not shown.</p>\n", e.Truncated, e.TruncatedFrom)
	}
	if len(e.Unknown) > 0 {
		shown := e.Unknown[:min(20, len(e.Unknown))]
		fmt.Fprintf(&b, "<p>%d words are not in the model's vocabulary and were not seen by it: %s", len(e.Unknown), html.EscapeString(strings.Join(shown, " ")))
		if len(shown) < len(e.Unknown) {
			b.WriteString(" …")
		}
		b.WriteString("</p>\n")
	}
	b.WriteString("</div>\n</body></html>\n")
	return b.Bytes()
}

// MaxHeatMapPixels bounds the pixels of a heat map (HeatMap's width ×
// height): 33,554,432, 128 MiB of RGBA.
const MaxHeatMapPixels = 1 << 25

// HeatMap renders, side by side, the image as the model saw it and the
// same image in gray with the scores blended over it — green where they
// speak for the predicted class, red against, opacity proportional to
// |score| up to its 99th percentile (as Captum clips outliers) — each
// pixel scaled up to a scale×scale square. A scale below 1, or one that
// makes the map larger than MaxHeatMapPixels, is an error.
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
