package metrics

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
)

// PlotConfusionPNG draws a confusion matrix as a heat map: rows are true
// classes, columns predicted ones, each cell shaded by its share of its row
// and labelled with its count.
func PlotConfusionPNG(m Confusion, classes []string, w io.Writer) error {
	k := len(m)
	if k == 0 {
		return fmt.Errorf("metrics: empty confusion matrix")
	}
	if len(classes) != k {
		return fmt.Errorf("metrics: %d class names for a %d×%d confusion matrix", len(classes), k, k)
	}
	const cell = 44
	label := 0
	for _, c := range classes {
		label = max(label, len(c))
	}
	left, top := label*charWidth+24, 48
	width, height := left+k*cell+16, top+k*cell+40
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	c := &canvas{img: img, clip: img.Bounds()}
	white := color.RGBA{255, 255, 255, 255}
	black := color.RGBA{0, 0, 0, 255}
	c.fill(img.Bounds(), white)
	c.text("predicted class", left+k*cell/2, 14, alignCenter, black)
	c.text("true class", 8, 14, alignLeft, black)
	for i := 0; i < k; i++ {
		c.text(fmt.Sprint(i), left+i*cell+cell/2, top-12, alignCenter, black)
		c.text(fmt.Sprintf("%s %d", classes[i], i), left-6, top+i*cell+cell/2, alignRight, black)
		total := 0
		for _, v := range m[i] {
			total += v
		}
		for j, v := range m[i] {
			share := 0.0
			if total > 0 {
				share = float64(v) / float64(total)
			}
			shade := uint8(255 - 200*share)
			bg := color.RGBA{shade, shade, 255, 255}
			r := image.Rect(left+j*cell, top+i*cell, left+(j+1)*cell, top+(i+1)*cell)
			c.fill(r, bg)
			c.frame(r, color.RGBA{200, 200, 200, 255})
			ink := black
			if share > 0.6 {
				ink = white
			}
			c.text(fmt.Sprint(v), r.Min.X+cell/2, r.Min.Y+cell/2, alignCenter, ink)
		}
	}
	c.text(fmt.Sprintf("accuracy %.4f (n=%d)", m.Accuracy(), m.N()), left+k*cell/2, top+k*cell+20, alignCenter, black)
	return png.Encode(w, img)
}

// Format renders the matrix as aligned text with class names.
func (m Confusion) Format(classes []string) string {
	width := 5
	for _, row := range m {
		for _, v := range row {
			width = max(width, len(fmt.Sprint(v))+1)
		}
	}
	name := 0
	for _, c := range classes {
		name = max(name, len(c))
	}
	s := fmt.Sprintf("%*s", name+4, "")
	for j := range m {
		s += fmt.Sprintf("%*d", width, j)
	}
	s += "   ← predicted\n"
	for i, row := range m {
		s += fmt.Sprintf("%*s %2d ", name, classes[i], i)
		for _, v := range row {
			s += fmt.Sprintf("%*d", width, v)
		}
		s += "\n"
	}
	return s
}
