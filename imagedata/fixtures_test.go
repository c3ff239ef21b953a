package imagedata

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// idxFile builds an IDX file: magic number, dimensions, data.
func idxFile(magic uint32, dims []int, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	return append(b, data...)
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// tinyIDX is n 2×3 images whose pixels encode their index, labels i%k.
func tinyIDX(n, k int) (images, labels []byte) {
	px := make([]byte, n*6)
	lab := make([]byte, n)
	for i := range n {
		for j := range 6 {
			px[i*6+j] = byte(i + j)
		}
		lab[i] = byte(i % k)
	}
	return idxFile(idxImagesMagic, []int{n, 2, 3}, px), idxFile(idxLabelsMagic, []int{n}, lab)
}

// writeFiles creates files (name → content) under a new temporary folder.
func writeFiles(t testing.TB, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// pngGray encodes a w×h gray PNG of value v.
func pngGray(w, h int, v uint8) []byte {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = v
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

// pngRGB encodes a w×h PNG of one colour, gray if r = g = b.
func pngRGB(w, h int, c color.NRGBA) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

func jpegRGB(w, h int, c color.RGBA) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, img, &jpeg.Options{Quality: 100})
	return buf.Bytes()
}

// pngDeclaring returns a valid 1×1 gray PNG whose header claims w×h
// pixels: tiny on disk, but a full decode would allocate w·h bytes.
func pngDeclaring(w, h uint32) []byte {
	b := pngGray(1, 1, 7)
	// Signature (8), IHDR length (4), "IHDR" (4), width, height at 16, 20.
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}
