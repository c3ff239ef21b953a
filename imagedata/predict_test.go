package imagedata

import (
	"image/color"
	"math"
	"path/filepath"
	"testing"
)

func TestLoadImageFile(t *testing.T) {
	gray := Pipeline{Channels: 1, Height: 3, Width: 4, Mean: []float64{0.5}, Std: []float64{0.25}}
	rgb := Pipeline{Channels: 3, Height: 3, Width: 4, Mean: []float64{0, 0, 0}, Std: []float64{1, 1, 1}}
	dir := writeFiles(t, map[string][]byte{
		"gray.png":      pngGray(4, 3, 51),
		"big.png":       pngGray(40, 30, 51),
		"grayrgb.png":   pngRGB(4, 3, color.NRGBA{51, 51, 51, 255}),
		"red.png":       pngRGB(4, 3, color.NRGBA{255, 0, 0, 255}),
		"redbig.jpg":    jpegRGB(8, 6, color.RGBA{255, 0, 0, 255}),
		"notes.txt":     []byte("not an image"),
		"truncated.png": pngGray(4, 3, 1)[:30],
	})
	for _, tt := range []struct {
		file    string
		p       Pipeline
		want    []float32 // first value of each channel
		resized bool
		err     string
	}{
		{"gray.png", gray, []float32{(0.2 - 0.5) / 0.25}, false, ""},
		{"big.png", gray, []float32{(0.2 - 0.5) / 0.25}, true, ""},
		{"grayrgb.png", gray, []float32{(0.2 - 0.5) / 0.25}, false, ""}, // gray stored as RGB
		{"gray.png", rgb, []float32{0.2, 0.2, 0.2}, false, ""},          // gray repeated into RGB
		{"red.png", rgb, []float32{1, 0, 0}, false, ""},
		{"redbig.jpg", rgb, []float32{1, 0, 0}, true, ""},
		{"red.png", gray, nil, false, "red.png: 4×3 colour (RGB) image, but the model takes 1-channel (grayscale) input; convert it to grayscale first"},
		{"notes.txt", gray, nil, false, "notes.txt: not a PNG or JPEG image"},
		{"truncated.png", gray, nil, false, "truncated.png: bad PNG image: unexpected EOF"},
		{"missing.png", gray, nil, false, "missing.png: no such file"},
		{"gray.png", Pipeline{Channels: 1, Height: 3, Width: 4}, nil, false, "pipeline: 0 mean and 0 std values for 1 channels"},
	} {
		x, info, err := LoadImageFile(filepath.Join(dir, tt.file), tt.p)
		if tt.err != "" {
			checkError(t, err, dir, tt.err)
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.file, err)
			continue
		}
		if len(x) != tt.p.Channels*tt.p.Height*tt.p.Width || info.Resized != tt.resized {
			t.Errorf("%s: %d values, resized %v (%s)", tt.file, len(x), info.Resized, info.Note(tt.p))
		}
		plane := tt.p.Height * tt.p.Width
		for c, want := range tt.want {
			for _, v := range x[c*plane : (c+1)*plane] {
				if math.Abs(float64(v-want)) > 0.02 {
					t.Errorf("%s: channel %d value %g, want %g", tt.file, c, v, want)
					break
				}
			}
		}
	}
	_, info, _ := LoadImageFile(filepath.Join(dir, "big.png"), gray)
	if note := info.Note(gray); note != "resized from 40×30 to the model's 4×3" {
		t.Errorf("note %q", note)
	}
}

func TestConform(t *testing.T) {
	im := stripes(2, 1, 4, 4)
	out, resized, err := im.Conform(3, 2, 2)
	if err != nil || resized != 2 || out.C != 3 || out.H != 2 || len(out.Pixels) != 2*3*4 {
		t.Fatalf("Conform: %+v %d %v", out, resized, err)
	}
	if same, n, _ := im.Conform(1, 4, 4); same != im || n != 0 {
		t.Error("Conform copied a set of the right shape")
	}
	colour := stripes(1, 3, 2, 2) // channels differ
	if _, _, err := colour.Conform(1, 2, 2); err == nil {
		t.Error("colour images conformed to one channel")
	}
}
