package metrics

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"strconv"
	"strings"
)

// Plot size in pixels: two panels side by side.
const (
	PlotWidth  = 900
	PlotHeight = 400
)

var (
	white        = color.RGBA{255, 255, 255, 255}
	gridColor    = color.RGBA{230, 230, 230, 255}
	axisColor    = color.RGBA{80, 80, 80, 255}
	legendBorder = color.RGBA{190, 190, 190, 255}
	textColor    = color.RGBA{30, 30, 30, 255}
	// matplotlib's tab10, so the colors look familiar.
	palette = []color.RGBA{
		{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255},
		{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255},
		{188, 189, 34, 255}, {23, 190, 207, 255},
	}
)

// notPlotted are bookkeeping columns whose scale has nothing to do with the
// metrics'.
var notPlotted = map[string]bool{"epoch": true, "lr": true, "time_s": true}

// PlotPNG draws h as a PlotWidth×PlotHeight PNG with two panels against the
// epoch: on the left every column whose name ends in "loss" (train/loss,
// val/loss), on the right the other metrics (accuracy, F1, AUC, RMSE, ...);
// "epoch", "lr" and "time_s" are left out. A metric has one color, solid
// for train/ and dashed for val/ (dotted for any other prefix). Missing and
// infinite values leave a gap in the line. The output depends only on h.
func PlotPNG(h *History, w io.Writer) error {
	if err := png.Encode(w, PlotImage(h)); err != nil {
		return fmt.Errorf("plot history: %w", err)
	}
	return nil
}

// PlotImage draws what PlotPNG encodes.
func PlotImage(h *History) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, PlotWidth, PlotHeight))
	c := &canvas{img: img, clip: img.Rect}
	c.fill(img.Rect, white)

	x := make([]float64, h.Len())
	for i := range x {
		x[i] = float64(h.Epoch(i))
	}
	var losses, others []string
	for _, name := range h.Columns() {
		switch base := baseName(name); {
		case notPlotted[base]:
		case strings.HasSuffix(base, "loss"):
			losses = append(losses, name)
		default:
			others = append(others, name)
		}
	}
	half := PlotWidth / 2
	drawPanel(c, image.Rect(0, 0, half, PlotHeight), "loss", x, h, losses)
	drawPanel(c, image.Rect(half, 0, PlotWidth, PlotHeight), "metrics", x, h, others)
	return img
}

// baseName is the metric name without its "train/" or "val/" prefix.
func baseName(name string) string {
	return name[strings.LastIndexByte(name, '/')+1:]
}

// series is one line of a panel.
type series struct {
	name string
	y    []float64
	pen  pen
}

func styleFor(name string, colorOf map[string]color.RGBA) pen {
	base := baseName(name)
	col, ok := colorOf[base]
	if !ok {
		col = palette[len(colorOf)%len(palette)]
		colorOf[base] = col
	}
	switch prefix := strings.TrimSuffix(name, base); prefix {
	case "", "train/":
		return pen{color: col}
	case "val/":
		return pen{color: col, dash: []float64{7, 4}}
	default:
		return pen{color: col, dash: []float64{2, 3}}
	}
}

// drawPanel draws one chart into area: title, grid, ticks, lines, legend.
func drawPanel(c *canvas, area image.Rectangle, title string, x []float64, h *History, names []string) {
	colorOf := map[string]color.RGBA{}
	var lines []series
	for _, name := range names {
		lines = append(lines, series{name: name, y: h.Column(name), pen: styleFor(name, colorOf)})
	}
	var ys []float64
	for _, s := range lines {
		ys = append(ys, s.y...)
	}
	xlo, xhi := paddedRange(x, 0.03, 0.5)
	ylo, yhi := paddedRange(ys, 0.06, 0)
	xTicks := ticks(xlo, xhi, 8, true)
	yTicks := ticks(ylo, yhi, 6, false)
	// The left margin fits the longest y tick label.
	labelWidth := 0
	for _, t := range yTicks.values {
		labelWidth = max(labelWidth, len(yTicks.label(t))*charWidth)
	}
	plot := image.Rect(area.Min.X+max(62, labelWidth+20), area.Min.Y+30, area.Max.X-18, area.Max.Y-44)
	toX := func(v float64) float64 {
		return float64(plot.Min.X) + (v-xlo)/(xhi-xlo)*float64(plot.Dx())
	}
	toY := func(v float64) float64 {
		return float64(plot.Max.Y) - (v-ylo)/(yhi-ylo)*float64(plot.Dy())
	}

	c.text(title, (plot.Min.X+plot.Max.X)/2, area.Min.Y+15, alignCenter, textColor)
	for _, t := range yTicks.values {
		py := int(math.Round(toY(t)))
		c.hline(plot.Min.X, plot.Max.X, py, gridColor)
		c.hline(plot.Min.X-4, plot.Min.X, py, axisColor)
		c.text(yTicks.label(t), plot.Min.X-7, py, alignRight, textColor)
	}
	for _, t := range xTicks.values {
		px := int(math.Round(toX(t)))
		c.vline(px, plot.Min.Y, plot.Max.Y, gridColor)
		c.vline(px, plot.Max.Y, plot.Max.Y+4, axisColor)
		c.text(xTicks.label(t), px, plot.Max.Y+14, alignCenter, textColor)
	}
	c.text("epoch", (plot.Min.X+plot.Max.X)/2, plot.Max.Y+32, alignCenter, textColor)
	c.frame(plot, axisColor)

	inside := &canvas{img: c.img, clip: image.Rect(plot.Min.X+1, plot.Min.Y+1, plot.Max.X, plot.Max.Y)}
	plotted := 0
	for _, s := range lines {
		if drawSeries(inside, s, x, toX, toY) {
			plotted++
		}
	}
	if plotted == 0 {
		c.text("no data", (plot.Min.X+plot.Max.X)/2, (plot.Min.Y+plot.Max.Y)/2, alignCenter, axisColor)
		return
	}
	drawLegend(inside, plot, lines)
}

// drawSeries draws the line through the finite points of s, broken where a
// value is missing, with a marker on every point when there are few of them
// and always on isolated ones. It reports whether anything was drawn.
func drawSeries(c *canvas, s series, x []float64, toX, toY func(float64) float64) bool {
	finite := func(i int) bool {
		return i >= 0 && i < len(s.y) && !math.IsNaN(s.y[i]) && !math.IsInf(s.y[i], 0)
	}
	drawn := false
	travelled := 0.0
	for i := range s.y {
		if !finite(i) {
			travelled = 0
			continue
		}
		drawn = true
		if finite(i - 1) {
			travelled = c.stroke(toX(x[i-1]), toY(s.y[i-1]), toX(x[i]), toY(s.y[i]), s.pen, travelled)
		}
		if len(s.y) <= 40 || (!finite(i-1) && !finite(i+1)) {
			c.disc(toX(x[i]), toY(s.y[i]), 2, s.pen.color)
		}
	}
	return drawn
}

// drawLegend puts a boxed legend in whichever inner corner of plot hides
// the least of what is already drawn, preferring the top right.
func drawLegend(c *canvas, plot image.Rectangle, lines []series) {
	const rowHeight, swatch, pad = 15, 26, 6
	longest := 0
	for _, s := range lines {
		longest = max(longest, len(s.name))
	}
	size := image.Pt(pad+swatch+pad+longest*charWidth+pad, pad+len(lines)*rowHeight+pad/2)
	inset := plot.Inset(5)
	corners := []image.Point{
		{inset.Max.X - size.X, inset.Min.Y},
		{inset.Min.X, inset.Min.Y},
		{inset.Max.X - size.X, inset.Max.Y - size.Y},
		{inset.Min.X, inset.Max.Y - size.Y},
	}
	box := image.Rectangle{Min: corners[0], Max: corners[0].Add(size)}
	least := -1
	for _, at := range corners {
		r := image.Rectangle{Min: at, Max: at.Add(size)}
		if n := c.inked(r, white, gridColor); least < 0 || n < least {
			box, least = r, n
		}
	}
	c.fill(box, white)
	c.frame(image.Rectangle{Min: box.Min, Max: box.Max.Sub(image.Pt(1, 1))}, legendBorder)
	for i, s := range lines {
		y := box.Min.Y + pad + i*rowHeight + rowHeight/2
		x0 := float64(box.Min.X + pad)
		c.stroke(x0, float64(y), x0+swatch, float64(y), s.pen, 0)
		c.text(s.name, box.Min.X+pad+swatch+pad, y, alignLeft, textColor)
	}
}

// paddedRange is the range of the finite values widened by frac of its
// span on each side; a single value is widened by atLeast (or by 10% of
// its magnitude, or 1, when atLeast is 0) so nothing divides by zero. With
// no finite value it is [0, 1].
func paddedRange(values []float64, frac, atLeast float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	switch {
	case lo > hi:
		return 0, 1
	case lo == hi:
		d := atLeast
		if d == 0 {
			d = math.Abs(lo) * 0.1
		}
		if d == 0 {
			d = 1
		}
		return lo - d, hi + d
	}
	d := (hi - lo) * frac
	lo, hi = lo-d, hi+d
	if !(hi-lo > 0) || math.IsInf(hi-lo, 0) {
		// Values too close to tell apart at their magnitude, or too far
		// apart for a float64 span: widen the former, keep the latter.
		if math.IsInf(hi-lo, 0) {
			return lo, hi
		}
		d := math.Max(math.Abs(lo)*1e-3, 1e-300)
		return lo - d, hi + d
	}
	return lo, hi
}

// tickSet is a list of round values and how many decimals to print them
// with.
type tickSet struct {
	values   []float64
	decimals int
}

// ticks picks at most about maxTicks round values (1, 2 or 5 × 10^k apart)
// inside [lo, hi]; integer ticks only when integers is set.
func ticks(lo, hi float64, maxTicks int, integers bool) tickSet {
	raw := (hi - lo) / float64(maxTicks)
	exp := math.Floor(math.Log10(raw))
	step := math.Pow(10, exp)
	switch f := raw / step; {
	case f > 5:
		step, exp = step*10, exp+1
	case f > 2:
		step *= 5
	case f > 1:
		step *= 2
	}
	if integers && step < 1 {
		step, exp = 1, 0
	}
	var ts tickSet
	ts.decimals = max(0, int(-exp))
	// The tolerance keeps a tick landing on hi despite rounding (188×0.005).
	// The iteration cap guards against k++ being a no-op beyond 2⁵³.
	for k, n := math.Ceil(lo/step-1e-9), 0; k*step <= hi+step*1e-9 && n < 4*maxTicks; k, n = k+1, n+1 {
		ts.values = append(ts.values, k*step)
	}
	return ts
}

func (ts tickSet) label(v float64) string {
	if math.Abs(v) >= 1e6 || ts.decimals > 5 {
		return strconv.FormatFloat(v, 'g', 4, 64) // 3e+09, 1.2e-09
	}
	s := strconv.FormatFloat(v, 'f', ts.decimals, 64)
	if strings.Trim(s, "-0.") == "" {
		return strconv.FormatFloat(0, 'f', ts.decimals, 64) // no "-0.0"
	}
	return s
}
