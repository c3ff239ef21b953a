// Package curveplot draws ROC and precision–recall curves (package
// metrics's ClassCurves) as PNG images with gonum.org/v1/plot: titled,
// with labelled axes on [0, 1], one colored curve per class and a legend
// giving each class's area under the ROC curve or average precision.
//
// It is a package of its own so that what links package metrics — the
// runtime, the trainer — does not link a plotting library and its fonts.
package curveplot

import (
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/tapeml/tapeml/metrics"
)

// Size of the images: 6 × 5 inches at gonum/plot's 96 dpi, 576 × 480
// pixels.
const (
	Width  = 6 * vg.Inch
	Height = 5 * vg.Inch
)

// palette is matplotlib's tab10, which scikit-learn's displays use.
var palette = []color.RGBA{
	{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255},
	{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255},
	{188, 189, 34, 255}, {23, 190, 207, 255},
}

var chance = color.RGBA{120, 120, 120, 255}

// ROCPNG draws the ROC curves of curves on one plot titled title, each
// class's AUC in the legend, and the diagonal of a classifier that
// guesses.
func ROCPNG(w io.Writer, title string, curves []metrics.ClassCurves) error {
	p := newPlot(title, "false positive rate", "true positive rate")
	for i, c := range curves {
		l, err := line(c.ROC.FPR, c.ROC.TPR, i)
		if err != nil {
			return fmt.Errorf("ROC curve of %q: %w", c.Class, err)
		}
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s (AUC %.4f)", c.Class, c.ROC.AUC()), l)
	}
	addChance(p, "chance (AUC 0.5)", plotter.XY{X: 0, Y: 0}, plotter.XY{X: 1, Y: 1})
	p.Legend.Top, p.Legend.Left = false, false
	return encode(p, w)
}

// PRPNG draws the precision–recall curves of curves on one plot titled
// title, as steps (precision holds until the next recall, as
// scikit-learn's PrecisionRecallDisplay draws it), each class's average
// precision in the legend; for a single curve, the share of positives —
// the precision of a classifier that guesses — as a dashed line.
func PRPNG(w io.Writer, title string, curves []metrics.ClassCurves) error {
	p := newPlot(title, "recall", "precision")
	for i, c := range curves {
		l, err := line(c.PR.Recall, c.PR.Precision, i)
		if err != nil {
			return fmt.Errorf("precision-recall curve of %q: %w", c.Class, err)
		}
		l.StepStyle = plotter.PostStep
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s (AP %.4f)", c.Class, c.PR.AveragePrecision()), l)
	}
	if len(curves) == 1 && len(curves[0].PR.Precision) > 0 {
		// At the lowest threshold everything is predicted positive, so the
		// precision there is the share of positives.
		share := curves[0].PR.Precision[0]
		addChance(p, fmt.Sprintf("chance (AP %.4f)", share), plotter.XY{X: 0, Y: share}, plotter.XY{X: 1, Y: share})
	}
	p.Legend.Top, p.Legend.Left = false, true
	return encode(p, w)
}

// addChance draws what a classifier that guesses achieves: a dashed gray
// line from a to b, named in the legend.
func addChance(p *plot.Plot, name string, a, b plotter.XY) {
	l, _ := plotter.NewLine(plotter.XYs{a, b}) // finite points: no error
	l.Color, l.Dashes, l.Width = chance, []vg.Length{vg.Points(4), vg.Points(4)}, vg.Points(1)
	p.Add(l)
	p.Legend.Add(name, l)
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text, p.Y.Label.Text = x, y
	// Rates and precisions are in [0, 1]; a margin keeps curves along the
	// edges visible and the last tick label inside the image.
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = -0.02, 1.04, -0.02, 1.04
	p.X.Tick.Marker, p.Y.Tick.Marker = unitTicks, unitTicks
	p.Title.Padding = vg.Points(8)
	grid := plotter.NewGrid()
	grid.Vertical.Color, grid.Horizontal.Color = color.Gray{225}, color.Gray{225}
	p.Add(grid)
	p.Legend.ThumbnailWidth = vg.Points(24)
	return p
}

// unitTicks labels 0, 0.2, ..., 1 with minor ticks between.
var unitTicks = plot.ConstantTicks(func() []plot.Tick {
	var t []plot.Tick
	for i := 0; i <= 10; i++ {
		label := ""
		if i%2 == 0 {
			label = fmt.Sprintf("%.1f", float64(i)/10)
		}
		t = append(t, plot.Tick{Value: float64(i) / 10, Label: label})
	}
	return t
}())

// line is one class's curve, drawn in the i-th color of the palette.
func line(x, y []float64, i int) (*plotter.Line, error) {
	pts := make(plotter.XYs, len(x))
	for j := range x {
		pts[j] = plotter.XY{X: x[j], Y: y[j]}
	}
	l, err := plotter.NewLine(pts) // refuses NaN and infinite points
	if err != nil {
		return nil, err
	}
	l.LineStyle = draw.LineStyle{Color: palette[i%len(palette)], Width: vg.Points(1.8)}
	return l, nil
}

// encode draws p as a PNG with the image back end itself, not plot's
// format registry, so a build with gonum/plot's "minimal" tag (which
// leaves out the EPS, PDF, SVG and TeX back ends: 1.2 MB less in tapeml)
// still draws.
func encode(p *plot.Plot, w io.Writer) error {
	c := vgimg.NewWith(vgimg.UseWH(Width, Height), vgimg.UseDPI(vgimg.DefaultDPI))
	p.Draw(draw.New(c))
	_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(w)
	return err
}
