package charts

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot/palette"
)

// Diverging is the colour map of signed scores: red through white (0) to
// green, as Captum's RdWhGn; green is for the explained class, red
// against it.
type Diverging struct {
	min, max, alpha float64
}

// NewDiverging maps [−scale, scale] (scale > 0).
func NewDiverging(scale float64) *Diverging {
	if !(scale > 0) || math.IsInf(scale, 0) {
		scale = 1
	}
	return &Diverging{min: -scale, max: scale, alpha: 1}
}

// Ends of the map.
var (
	Against = color.RGBA{R: 215, G: 25, B: 28, A: 255}
	For     = color.RGBA{R: 26, G: 150, B: 65, A: 255}
)

// At is the colour of v, clamped to the range.
func (d *Diverging) At(v float64) (color.Color, error) {
	if math.IsNaN(v) {
		return nil, fmt.Errorf("charts: colour of NaN")
	}
	end, t := For, v/d.max
	if v < 0 {
		end, t = Against, v/d.min
	}
	t = min(1, max(0, t))
	mix := func(c uint8) uint8 { return uint8(math.Round(255 + t*(float64(c)-255))) }
	return color.NRGBA{R: mix(end.R), G: mix(end.G), B: mix(end.B), A: uint8(math.Round(255 * d.alpha))}, nil
}

// SetMin, SetMax, Min, Max, SetAlpha and Alpha make Diverging a
// palette.ColorMap.
func (d *Diverging) SetMin(v float64)   { d.min = v }
func (d *Diverging) SetMax(v float64)   { d.max = v }
func (d *Diverging) Min() float64       { return d.min }
func (d *Diverging) Max() float64       { return d.max }
func (d *Diverging) SetAlpha(a float64) { d.alpha = a }
func (d *Diverging) Alpha() float64     { return d.alpha }
func (d *Diverging) Palette(n int) palette.Palette {
	cs := make([]color.Color, n)
	for i := range cs {
		v := d.min
		if n > 1 {
			v += (d.max - d.min) * float64(i) / float64(n-1)
		}
		cs[i], _ = d.At(v)
	}
	return colors(cs)
}

type colors []color.Color

func (c colors) Colors() []color.Color { return c }

// Hex is a colour as CSS writes it: "#1a9641".
func Hex(c color.Color) string {
	r, g, b, _ := c.RGBA()
	return fmt.Sprintf("#%02x%02x%02x", r>>8, g>>8, b>>8)
}
