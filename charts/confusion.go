package charts

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/tapeml/tapeml/metrics"
)

// Confusion draws a confusion matrix as a heat map: rows are the true
// classes, columns the predicted ones, each cell shaded by its share of
// its row and labelled with its count.
func Confusion(m metrics.Confusion, classes []string) (*Figure, error) {
	k := len(m)
	if k == 0 {
		return nil, fmt.Errorf("charts: empty confusion matrix")
	}
	if len(classes) != k {
		return nil, fmt.Errorf("charts: %d class names for a %d×%d confusion matrix", len(classes), k, k)
	}
	for _, row := range m {
		if len(row) != k {
			return nil, fmt.Errorf("charts: a confusion matrix row of %d cells, want %d", len(row), k)
		}
	}
	g := shares{m: m}
	p := newPlot("")
	shades := make([]color.Color, 64)
	for i := range shades {
		v := uint8(255 - 200*i/63)
		shades[i] = color.RGBA{R: v, G: v, B: 255, A: 255}
	}
	hm := plotter.NewHeatMap(g, colors(shades))
	hm.Min, hm.Max = 0, 1
	p.Add(hm)
	var cells plotter.XYLabels
	var styles []text.Style
	for i, row := range m {
		for j, n := range row {
			cells.XYs = append(cells.XYs, plotter.XY{X: float64(j), Y: float64(k - 1 - i)})
			cells.Labels = append(cells.Labels, fmt.Sprint(n))
			ink := color.Color(color.Black)
			if g.Z(j, k-1-i) > 0.6 {
				ink = color.White
			}
			styles = append(styles, text.Style{Color: ink, Font: sans(10), XAlign: draw.XCenter, YAlign: draw.YCenter, Handler: p.TextHandler})
		}
	}
	labels, err := plotter.NewLabels(cells)
	if err != nil {
		return nil, err
	}
	labels.TextStyle = styles
	p.Add(labels)
	p.X.Label.Text, p.Y.Label.Text = "predicted class", "true class"
	p.NominalX(classes...)
	rev := make([]string, k)
	for i, c := range classes {
		rev[k-1-i] = c
	}
	p.NominalY(rev...)
	side := vg.Length(max(3, 0.6*float64(k))) * vg.Inch
	f := &Figure{Width: side + 1.6*vg.Inch, Height: side + 1*vg.Inch}
	f.draw = func(c draw.Canvas) {
		c = drawTitle(c, "confusion matrix", fmt.Sprintf("accuracy %.4f (n=%d); shade: share of the true class's row", m.Accuracy(), m.N()))
		p.Draw(c)
	}
	return f, nil
}

// shares is a confusion matrix as a grid of its rows' shares, the first
// true class on top.
type shares struct{ m metrics.Confusion }

func (s shares) Dims() (c, r int) { return len(s.m), len(s.m) }
func (s shares) X(c int) float64  { return float64(c) }
func (s shares) Y(r int) float64  { return float64(r) }
func (s shares) Z(c, r int) float64 {
	row := s.m[len(s.m)-1-r]
	total := 0
	for _, n := range row {
		total += n
	}
	if total == 0 {
		return 0
	}
	return float64(row[c]) / float64(total)
}
