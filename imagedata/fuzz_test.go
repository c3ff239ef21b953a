package imagedata

import (
	"bytes"
	"image/color"
	"testing"
	"testing/fstest"
)

// FuzzReadIDX: any pair of files, raw or gzip-compressed, decodes to
// consistent images or an error.
func FuzzReadIDX(f *testing.F) {
	imgs, labels := tinyIDX(4, 2)
	f.Add(imgs, labels)
	f.Add(gz(imgs), gz(labels))
	f.Add(imgs[:10], labels)
	f.Add(idxFile(idxImagesMagic, []int{1 << 30, 1 << 30, 1 << 30}, nil), labels)
	f.Add(gz(append(imgs, make([]byte, 1<<16)...)), labels)
	f.Fuzz(func(t *testing.T, images, labels []byte) {
		im, err := ReadIDX(bytes.NewReader(images), bytes.NewReader(labels))
		if err != nil {
			return
		}
		if im.Len()*im.Size() != len(im.Pixels) || im.C != 1 {
			t.Fatalf("%d images of %d×%d×%d but %d pixels", im.Len(), im.C, im.H, im.W, len(im.Pixels))
		}
	})
}

// FuzzDecodeCIFAR: any bytes decode to whole records or an error.
func FuzzDecodeCIFAR(f *testing.F) {
	rec := make([]byte, cifarRecord)
	rec[0] = 3
	f.Add(rec)
	f.Add(append(rec, rec...))
	f.Add(rec[:100])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		im, err := DecodeCIFAR(b)
		if err != nil {
			return
		}
		if im.Len()*im.Size() != len(im.Pixels) || im.Len()*cifarRecord != len(b) {
			t.Fatalf("%d records from %d bytes", im.Len(), len(b))
		}
		for _, l := range im.Labels {
			if l < 0 || l > 255 {
				t.Fatalf("label %d", l)
			}
		}
	})
}

// FuzzImageFolder loads an image-folder tree in which one file is
// arbitrary bytes (PNG, JPEG or anything else), and preprocesses that file
// as predict does.
func FuzzImageFolder(f *testing.F) {
	f.Add(pngGray(3, 2, 9))
	f.Add(pngRGB(2, 3, color.NRGBA{1, 2, 3, 255}))
	f.Add(jpegRGB(4, 4, color.RGBA{200, 10, 10, 255}))
	f.Add(pngDeclaring(20000, 20000))
	f.Add(pngDeclaring(1, 1<<31-1))
	f.Add([]byte("GIF89a"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fsys := fstest.MapFS{
			"d/cat/a.png": {Data: pngGray(3, 2, 1)},
			"d/cat/b.png": {Data: pngGray(3, 2, 2)},
			"d/dog/c.png": {Data: pngGray(3, 2, 3)},
			"d/dog/x.png": {Data: b},
		}
		set, err := LoadFS(fsys, "d", "d", Options{})
		if err == nil {
			c, h, w := set.Shape()
			if h != 2 || w != 3 || (c != 1 && c != 3) {
				t.Fatalf("shape %d×%d×%d", c, h, w)
			}
		}
		p := Pipeline{Channels: 3, Height: 4, Width: 4, Mean: []float64{0, 0, 0}, Std: []float64{1, 1, 1}}
		if x, _, err := preprocessFile(b, p); err == nil && len(x) != 48 {
			t.Fatalf("%d values", len(x))
		}
	})
}
