package charts

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// AttributionMap is an image and a signed score per pixel: the input a
// model saw and what each pixel contributed to the explained class.
type AttributionMap struct {
	Image         image.Image // the input, Width×Height
	Width, Height int
	Scores        []float64 // row by row, Width·Height
	// Title is the figure's title, a line each: the first is the headline
	// (predicted class and probability, true class), the rest smaller.
	Title []string
	// Target names the explained class in the colour bar's label.
	Target string
}

// Figure draws the map as three panels and a colour bar: the input, the
// scores alone in the diverging colours (red against the target, white 0,
// green for it) and the scores over the input dimmed to gray, the bar
// giving the scale. The scale is clipped at the 99th percentile of
// |score|, as Captum's visualizations clip outliers; the bar says so.
func (m AttributionMap) Figure() (*Figure, error) {
	if m.Image == nil || m.Width < 1 || m.Height < 1 || len(m.Scores) != m.Width*m.Height {
		return nil, fmt.Errorf("charts: an attribution map of %d scores for a %d×%d image", len(m.Scores), m.Width, m.Height)
	}
	for _, s := range m.Scores {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return nil, fmt.Errorf("charts: an attribution map with the score %v", s)
		}
	}
	scale, clipped := clipScale(m.Scores)
	cmap := NewDiverging(scale)
	// Nearest-neighbour upscaling, so the renderers' smoothing does not
	// blur a 28×28 image's pixels.
	up := max(1, 240/max(m.Width, m.Height))
	input := image.NewRGBA(image.Rect(0, 0, m.Width*up, m.Height*up))
	heat := image.NewRGBA(input.Rect)
	over := image.NewRGBA(input.Rect)
	for y := range m.Height {
		for x := range m.Width {
			in := color.RGBAModel.Convert(m.Image.At(m.Image.Bounds().Min.X+x, m.Image.Bounds().Min.Y+y)).(color.RGBA)
			c, _ := cmap.At(m.Scores[y*m.Width+x])
			hc := color.RGBAModel.Convert(c).(color.RGBA)
			gray := 40 + 0.6*(0.299*float64(in.R)+0.587*float64(in.G)+0.114*float64(in.B))
			blend := func(v uint8) uint8 { return uint8(math.Round(0.35*gray + 0.65*float64(v))) }
			oc := color.RGBA{R: blend(hc.R), G: blend(hc.G), B: blend(hc.B), A: 255}
			for dy := range up {
				for dx := range up {
					input.SetRGBA(x*up+dx, y*up+dy, in)
					heat.SetRGBA(x*up+dx, y*up+dy, hc)
					over.SetRGBA(x*up+dx, y*up+dy, oc)
				}
			}
		}
	}
	panels := []*plot.Plot{imagePlot("input", input), imagePlot("attribution", heat), imagePlot("attribution over the input", over)}
	bar := newPlot("")
	bar.Add(&plotter.ColorBar{ColorMap: cmap, Vertical: true})
	bar.HideX()
	bar.Y.Padding = 0
	bar.Y.Label.Text = "attribution"
	key := "green: for the explained class, red: against it"
	if m.Target != "" {
		key = fmt.Sprintf("green: for %s, red: against it", m.Target)
	}
	if clipped {
		key += "; colours clipped at the 99th percentile of |attribution|"
	}
	title := append(slices.Clone(m.Title), key)
	const gap = vg.Length(10)
	barW := 1.1 * vg.Inch
	side := 3 * vg.Inch
	f := &Figure{Width: 3*side + 2*gap + barW, Height: side + 0.95*vg.Inch}
	f.draw = func(c draw.Canvas) {
		c = drawTitle(c, title...)
		side := min(c.Max.Y-c.Min.Y, (c.Max.X-c.Min.X-barW-2*gap)/3)
		for i, p := range panels {
			x0 := c.Min.X + vg.Length(i)*(side+gap)
			p.Draw(subCanvas(c, x0, c.Max.Y-side, x0+side, c.Max.Y))
		}
		x0 := c.Min.X + 3*side + 2*gap + vg.Points(6)
		bar.Draw(subCanvas(c, x0, c.Max.Y-side+vg.Points(10), min(c.Max.X, x0+barW)-vg.Points(24), c.Max.Y-vg.Points(20)))
	}
	return f, nil
}

// clipScale is the colour scale of scores: the 99th percentile of |score|
// (the largest when that is 0), and whether larger scores were clipped.
func clipScale(scores []float64) (float64, bool) {
	abs := make([]float64, len(scores))
	for i, s := range scores {
		abs[i] = math.Abs(s)
	}
	slices.Sort(abs)
	scale := abs[(len(abs)-1)*99/100]
	if scale == 0 {
		scale = abs[len(abs)-1]
	}
	if scale == 0 {
		return 1, false
	}
	return scale, abs[len(abs)-1] > scale
}

// imagePlot is a panel showing img, without axes.
func imagePlot(title string, img image.Image) *plot.Plot {
	p := newPlot(title)
	b := img.Bounds()
	p.Add(plotter.NewImage(img, 0, 0, float64(b.Dx()), float64(b.Dy())))
	p.HideAxes()
	return p
}

// subCanvas is the part of c within the given corners.
func subCanvas(c draw.Canvas, x0, y0, x1, y1 vg.Length) draw.Canvas {
	c.Rectangle = vg.Rectangle{Min: vg.Point{X: x0, Y: y0}, Max: vg.Point{X: x1, Y: y1}}
	return c
}
