package charts

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/tapeml/tapeml/metrics"
)

// HistoryOptions says what History marks and names.
type HistoryOptions struct {
	Title string // the figure's headline: the model and run
	// Monitor is the metric that picked the best epoch ("val/loss"), and
	// BestEpoch that epoch (0: none marked).
	Monitor   string
	BestEpoch int
}

// bookkeeping columns are not plotted: their scales are not the metrics'.
var bookkeeping = map[string]bool{"epoch": true, "lr": true, "time_s": true}

// Split colours: matplotlib's tab10 blue and orange for train and val,
// green for any other prefix.
var splitColor = map[string]color.RGBA{
	"train/": {R: 31, G: 119, B: 180, A: 255},
	"val/":   {R: 255, G: 127, B: 14, A: 255},
	"":       {R: 44, G: 160, B: 44, A: 255},
}

// History draws a training history over the whole run: a panel per metric
// family — its train/ and val/ columns together (loss; accuracy; f1; …;
// the ε a DP run has spent) — against the epoch, train solid and
// validation dashed, with a dotted line at the best epoch in every panel
// and a ring on the monitored metric's best value. Missing and infinite
// values leave a gap; "epoch", "lr" and "time_s" are not drawn.
func History(h *metrics.History, o HistoryOptions) *Figure {
	var families []string
	members := map[string][]string{}
	for _, name := range h.Columns() {
		base := name[strings.LastIndexByte(name, '/')+1:]
		if bookkeeping[base] {
			continue
		}
		if members[base] == nil {
			families = append(families, base)
		}
		members[base] = append(members[base], name)
	}
	// Losses first and the privacy budget last; the rest as recorded.
	slices.SortStableFunc(families, func(a, b string) int { return rank(a) - rank(b) })
	epochs := make([]float64, h.Len())
	for i := range epochs {
		epochs[i] = float64(h.Epoch(i))
	}
	var panels []*plot.Plot
	for _, fam := range families {
		panels = append(panels, familyPlot(h, fam, members[fam], epochs, o))
	}
	cols := min(3, max(1, len(panels)))
	rows := max(1, (len(panels)+cols-1)/cols)
	f := &Figure{Width: vg.Length(cols) * 3.6 * vg.Inch, Height: vg.Length(rows)*2.7*vg.Inch + 0.6*vg.Inch}
	subtitle := fmt.Sprintf("%d epochs", h.Len())
	if o.BestEpoch > 0 {
		subtitle += fmt.Sprintf("; best epoch %d by %s", o.BestEpoch, o.Monitor)
	}
	var prefixes []string
	for _, name := range h.Columns() {
		if i := strings.LastIndexByte(name, '/'); i >= 0 && !slices.Contains(prefixes, name[:i+1]) && !bookkeeping[name[i+1:]] {
			prefixes = append(prefixes, name[:i+1])
		}
	}
	f.draw = func(c draw.Canvas) {
		c = drawTitle(c, o.Title, subtitle)
		c = drawKey(c, prefixes, o)
		if len(panels) == 0 {
			sty := textStyle(11, draw.XCenter, color.Gray{Y: 90})
			c.FillText(sty, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: (c.Min.Y + c.Max.Y) / 2}, "no metrics recorded")
			return
		}
		grid := make([][]*plot.Plot, rows)
		for r := range grid {
			grid[r] = make([]*plot.Plot, cols)
			for k := range cols {
				if i := r*cols + k; i < len(panels) {
					grid[r][k] = panels[i]
				}
			}
		}
		tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(14), PadY: vg.Points(14), PadLeft: vg.Points(4), PadRight: vg.Points(8), PadBottom: vg.Points(4)}
		canvases := plot.Align(grid, tiles, c)
		for r := range grid {
			for k, p := range grid[r] {
				if p != nil {
					p.Draw(canvases[r][k])
				}
			}
		}
	}
	return f
}

func rank(family string) int {
	switch {
	case strings.HasSuffix(family, "loss"):
		return 0
	case family == "epsilon":
		return 2
	}
	return 1
}

// bestGlyph rings the monitored metric's best value.
var bestGlyph = draw.GlyphStyle{Color: color.Black, Radius: vg.Points(5), Shape: draw.RingGlyph{}}

// splitStyle is the line of a column with the given prefix ("train/").
func splitStyle(prefix string) draw.LineStyle {
	clr, ok := splitColor[prefix]
	if !ok {
		clr = splitColor[""]
	}
	style := draw.LineStyle{Color: clr, Width: vg.Points(1.5)}
	if prefix == "val/" {
		style.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	} else if prefix != "train/" && prefix != "" {
		style.Dashes = []vg.Length{vg.Points(1.5), vg.Points(2)}
	}
	return style
}

// drawKey draws, centred on a line at the top of c, a sample of each
// prefix's line and the best-epoch marks, and returns the canvas below.
func drawKey(c draw.Canvas, prefixes []string, o HistoryOptions) draw.Canvas {
	sty := textStyle(9, draw.XLeft, color.Black)
	sty.YAlign = draw.YCenter
	type item struct {
		draw  func(x, y vg.Length)
		label string
	}
	var items []item
	for _, pre := range prefixes {
		ls := splitStyle(pre)
		items = append(items, item{func(x, y vg.Length) { c.StrokeLine2(ls, x, y, x+vg.Points(24), y) }, strings.TrimSuffix(pre, "/")})
	}
	if o.BestEpoch > 0 {
		dotted := draw.LineStyle{Color: color.Gray{Y: 110}, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(1), vg.Points(2)}}
		items = append(items, item{func(x, y vg.Length) {
			c.StrokeLine2(dotted, x+vg.Points(12), y-vg.Points(6), x+vg.Points(12), y+vg.Points(6))
		}, fmt.Sprintf("best epoch %d", o.BestEpoch)})
		items = append(items, item{func(x, y vg.Length) { c.DrawGlyph(bestGlyph, vg.Point{X: x + vg.Points(12), Y: y}) }, "best " + o.Monitor})
	}
	width := vg.Length(0)
	for _, it := range items {
		width += vg.Points(30) + sty.Width(it.label) + vg.Points(16)
	}
	x, y := (c.Min.X+c.Max.X-width)/2, c.Max.Y-vg.Points(8)
	for _, it := range items {
		it.draw(x, y)
		c.FillText(sty, vg.Point{X: x + vg.Points(30), Y: y}, it.label)
		x += vg.Points(30) + sty.Width(it.label) + vg.Points(16)
	}
	c.Max.Y -= vg.Points(18)
	return c
}

// familyPlot is one family's panel.
func familyPlot(h *metrics.History, family string, names []string, epochs []float64, o HistoryOptions) *plot.Plot {
	title := family
	if family == "epsilon" {
		title = "ε spent (privacy)"
	}
	p := newPlot(title)
	p.X.Label.Text = "epoch"
	p.X.Tick.Marker = epochTicks{}
	p.Add(plotter.NewGrid())
	for _, name := range names {
		prefix := strings.TrimSuffix(name, family)
		style := splitStyle(prefix)
		clr := style.Color
		ys := h.Column(name)
		for _, seg := range segments(epochs, ys) {
			if len(seg) > 1 {
				l, err := plotter.NewLine(seg)
				if err != nil {
					continue
				}
				l.LineStyle = style
				p.Add(l)
			}
			if len(seg) == 1 || len(epochs) <= 40 {
				s, err := plotter.NewScatter(seg)
				if err != nil {
					continue
				}
				s.GlyphStyle = draw.GlyphStyle{Color: clr, Radius: vg.Points(2), Shape: draw.CircleGlyph{}}
				p.Add(s)
			}
		}
		if o.BestEpoch > 0 && name == o.Monitor {
			for i, e := range epochs {
				if int(e) == o.BestEpoch && finite(ys[i]) {
					ring, err := plotter.NewScatter(plotter.XYs{{X: e, Y: ys[i]}})
					if err == nil {
						ring.GlyphStyle = bestGlyph
						p.Add(ring)
					}
				}
			}
		}
	}
	if o.BestEpoch > 0 && len(epochs) > 0 {
		lo, hi := yRange(h, names)
		best, err := plotter.NewLine(plotter.XYs{{X: float64(o.BestEpoch), Y: lo}, {X: float64(o.BestEpoch), Y: hi}})
		if err == nil {
			best.LineStyle = draw.LineStyle{Color: color.Gray{Y: 110}, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(1), vg.Points(2)}}
			p.Add(best)
		}
	}
	if len(epochs) > 0 {
		// Some room either side of the first and last epochs.
		p.X.Min, p.X.Max = epochs[0]-0.5, epochs[len(epochs)-1]+0.5
	}
	return p
}

// segments splits a series at its missing and infinite values.
func segments(xs, ys []float64) []plotter.XYs {
	var out []plotter.XYs
	var cur plotter.XYs
	for i, y := range ys {
		if !finite(y) {
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, plotter.XY{X: xs[i], Y: y})
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// yRange is the range of the finite values of the named columns (0 to 1
// with none).
func yRange(h *metrics.History, names []string) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, n := range names {
		for _, v := range h.Column(n) {
			if finite(v) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	if lo > hi {
		return 0, 1
	}
	return lo, hi
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// epochTicks marks whole epochs only, about eight of them.
type epochTicks struct{}

func (epochTicks) Ticks(lo, hi float64) []plot.Tick {
	first, last := math.Ceil(lo), math.Floor(hi)
	if last < first {
		return nil
	}
	step := math.Max(1, niceStep((last-first)/8))
	var ts []plot.Tick
	for v := math.Ceil(first/step) * step; v <= last && len(ts) < 40; v += step {
		ts = append(ts, plot.Tick{Value: v, Label: fmt.Sprint(v)})
	}
	return ts
}

// niceStep rounds raw up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if !(raw > 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}
