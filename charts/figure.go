package charts

import (
	"fmt"
	"image/color"
	"io"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Formats a Figure is written in.
const (
	PNG = "png"
	SVG = "svg"
)

// dpi is the PNG resolution: a figure of 9×4 inches is 864×384 pixels.
const dpi = 96

// Figure is a drawing of a fixed size, written as PNG or SVG.
type Figure struct {
	Width, Height vg.Length
	draw          func(c draw.Canvas)
}

// Write writes the figure in format (PNG or SVG).
func (f *Figure) Write(w io.Writer, format string) error {
	var c vg.CanvasWriterTo
	switch format {
	case PNG:
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(f.Width, f.Height), vgimg.UseDPI(dpi), vgimg.UseBackgroundColor(color.White))}
	case SVG:
		c = vgsvg.New(f.Width, f.Height)
	default:
		return fmt.Errorf("charts: unknown format %q (want %s or %s)", format, PNG, SVG)
	}
	dc := draw.New(c)
	if format == SVG { // the PNG canvas has its background already
		dc.FillPolygon(color.White, []vg.Point{dc.Min, {X: dc.Max.X, Y: dc.Min.Y}, dc.Max, {X: dc.Min.X, Y: dc.Max.Y}})
	}
	f.draw(dc)
	if _, err := c.WriteTo(w); err != nil {
		return fmt.Errorf("charts: writing %s: %w", format, err)
	}
	return nil
}

// FormatOf is the format a file name asks for by its extension: PNG for
// .png, SVG for .svg.
func FormatOf(path string) (string, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png":
		return PNG, nil
	case ".svg":
		return SVG, nil
	default:
		return "", fmt.Errorf("charts: %s: want a .png or .svg file", path)
	}
}

// sans is the face of every text a figure draws.
func sans(size vg.Length) font.Font {
	return font.From(font.Font{Typeface: "Liberation", Variant: "Sans"}, size)
}

// newPlot is plot.New with sans-serif text of the figures' sizes.
func newPlot(title string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = sans(11)
	p.Title.Padding = vg.Points(4)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = sans(10)
		a.Tick.Label.Font = sans(9)
	}
	p.Legend.TextStyle.Font = sans(9)
	return p
}

// textStyle is a line of figure text.
func textStyle(size vg.Length, xAlign draw.XAlignment, clr color.Color) draw.TextStyle {
	return text.Style{Color: clr, Font: sans(size), XAlign: xAlign, YAlign: draw.YTop, Handler: plot.DefaultTextHandler}
}

// drawTitle writes lines centred at the top of c, the first larger, and
// returns the canvas below them.
func drawTitle(c draw.Canvas, lines ...string) draw.Canvas {
	y := c.Max.Y - vg.Points(6)
	mid := (c.Min.X + c.Max.X) / 2
	for i, l := range lines {
		if l == "" {
			continue
		}
		size, clr := vg.Length(13), color.Color(color.Black)
		if i > 0 {
			size, clr = 10, color.Gray{Y: 70}
		}
		sty := textStyle(size, draw.XCenter, clr)
		c.FillText(sty, vg.Point{X: mid, Y: y}, l)
		y -= sty.Height(l) + vg.Points(3)
	}
	c.Max.Y = y - vg.Points(2)
	return c
}
