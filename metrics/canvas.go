package metrics

import (
	"image"
	"image/color"
	"image/draw"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// canvas draws the few primitives a line chart needs onto an RGBA image,
// clipped to clip. Everything is integer or fixed-step arithmetic, so the
// same history always gives the same pixels.
type canvas struct {
	img  *image.RGBA
	clip image.Rectangle
}

// The face is 7 pixels wide per character, 13 high, baseline 11 below top.
var face = basicfont.Face7x13

const (
	charWidth  = 7
	textAscent = 10 // of the digits and capitals actually drawn
)

func (c *canvas) set(x, y int, col color.RGBA) {
	if image.Pt(x, y).In(c.clip) {
		c.img.SetRGBA(x, y, col)
	}
}

func (c *canvas) fill(r image.Rectangle, col color.RGBA) {
	draw.Draw(c.img, r.Intersect(c.clip), image.NewUniform(col), image.Point{}, draw.Src)
}

func (c *canvas) hline(x0, x1, y int, col color.RGBA) {
	for x := x0; x <= x1; x++ {
		c.set(x, y, col)
	}
}

func (c *canvas) vline(x, y0, y1 int, col color.RGBA) {
	for y := y0; y <= y1; y++ {
		c.set(x, y, col)
	}
}

// frame draws the outline of r (inclusive of its last row and column).
func (c *canvas) frame(r image.Rectangle, col color.RGBA) {
	c.hline(r.Min.X, r.Max.X, r.Min.Y, col)
	c.hline(r.Min.X, r.Max.X, r.Max.Y, col)
	c.vline(r.Min.X, r.Min.Y, r.Max.Y, col)
	c.vline(r.Max.X, r.Min.Y, r.Max.Y, col)
}

// pen is a line style: a color and a dash pattern of alternating on/off
// lengths in pixels (nil draws solid).
type pen struct {
	color color.RGBA
	dash  []float64
}

// stroke draws a 2-pixel-wide polyline segment from (x0,y0) to (x1,y1).
// travelled is the length drawn so far along the whole polyline, so dashes
// continue across segments; the new total is returned.
func (c *canvas) stroke(x0, y0, x1, y1 float64, p pen, travelled float64) float64 {
	length := math.Hypot(x1-x0, y1-y0)
	steps := int(math.Ceil(length*2)) + 1
	for i := 0; i <= steps; i++ {
		t := float64(i) / float64(steps)
		if p.on(travelled + t*length) {
			c.dot(x0+t*(x1-x0), y0+t*(y1-y0), p.color)
		}
	}
	return travelled + length
}

func (p pen) on(at float64) bool {
	if len(p.dash) == 0 {
		return true
	}
	period := 0.0
	for _, d := range p.dash {
		period += d
	}
	at = math.Mod(at, period)
	for i, d := range p.dash {
		if at < d {
			return i%2 == 0
		}
		at -= d
	}
	return false
}

// dot stamps a 2×2 square at the pixel containing (x, y) and its lower
// right neighbours, which reads as a 2-pixel line.
func (c *canvas) dot(x, y float64, col color.RGBA) {
	px, py := int(math.Floor(x)), int(math.Floor(y))
	for dy := 0; dy < 2; dy++ {
		for dx := 0; dx < 2; dx++ {
			c.set(px+dx, py+dy, col)
		}
	}
}

// disc draws a filled circle of radius r centred on the pixel containing
// (x, y).
func (c *canvas) disc(x, y float64, r int, col color.RGBA) {
	cx, cy := int(math.Floor(x)), int(math.Floor(y))
	for dy := -r; dy <= r; dy++ {
		for dx := -r; dx <= r; dx++ {
			if dx*dx+dy*dy <= r*r+r/2 {
				c.set(cx+dx, cy+dy, col)
			}
		}
	}
}

// Text anchors, horizontally.
const (
	alignLeft = iota
	alignCenter
	alignRight
)

// text draws s with its vertical middle at y and its left, centre or right
// at x.
func (c *canvas) text(s string, x, y, align int, col color.RGBA) {
	w := len(s) * charWidth
	switch align {
	case alignCenter:
		x -= w / 2
	case alignRight:
		x -= w
	}
	d := font.Drawer{
		Dst:  c.img,
		Src:  image.NewUniform(col),
		Face: face,
		Dot:  fixed.P(x, y+textAscent/2),
	}
	d.DrawString(s)
}

// inked counts the pixels of r that are neither of the given colors: how
// much drawing a legend box placed there would hide.
func (c *canvas) inked(r image.Rectangle, background ...color.RGBA) int {
	n := 0
	r = r.Intersect(c.img.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
	pixel:
		for x := r.Min.X; x < r.Max.X; x++ {
			p := c.img.RGBAAt(x, y)
			for _, b := range background {
				if p == b {
					continue pixel
				}
			}
			n++
		}
	}
	return n
}
