package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"path/filepath"
	"strings"
	"testing"
)

// pngBytes draws an 8×8 image: gray with a bright left or right half, or a
// red one when colour is set.
func pngBytes(t *testing.T, right bool, noise int, colour bool) []byte {
	return drawPNG(t, func(x, _ int) bool { return (x >= 4) == right }, noise, colour)
}

// drawPNG draws an 8×8 image, bright where bright says, dark with a little
// noise elsewhere: gray, or red when colour is set.
func drawPNG(t *testing.T, bright func(x, y int) bool, noise int, colour bool) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for y := 0; y < 8; y++ {
		for x := 0; x < 8; x++ {
			v := uint8(30 + (x*7+y*3+noise)%20)
			if bright(x, y) {
				v = 220
			}
			c := color.RGBA{v, v, v, 255}
			if colour {
				c = color.RGBA{v, 0, 0, 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestConvnetEndToEndOnAnImageFolder(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "images")
	for i := 0; i < 30; i++ {
		write(t, filepath.Join(data, "left", fmt.Sprintf("%02d.png", i)), pngBytes(t, false, i, false))
		write(t, filepath.Join(data, "right", fmt.Sprintf("%02d.png", i)), pngBytes(t, true, i, false))
	}
	run := filepath.Join(dir, "run")
	status, out, stderr := runCLI(t, "", "train", "convnet", "--data", data, "--epochs", "3", "--batch", "8", "--lr", "0.01", "--augment", "crop", "--out", run)
	if status != 0 {
		t.Fatalf("train: %s\n%s", stderr, out)
	}
	for _, want := range []string{"[1, ", "] loss: ", "test (best epoch, n=6)", "confusion matrix", "confusion.png", "checkpoint: "} {
		if !strings.Contains(out, want) {
			t.Fatalf("train output lacks %q:\n%s", want, out)
		}
	}
	status, out, stderr = runCLI(t, "", "eval", "--checkpoint", run, "--json")
	if status != 0 {
		t.Fatalf("eval: %s", stderr)
	}
	var ev struct {
		Accuracy float64            `json:"accuracy"`
		N        int                `json:"n"`
		PerClass map[string]float64 `json:"per_class_accuracy"`
	}
	if err := json.Unmarshal([]byte(out), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.N != 6 || len(ev.PerClass) != 2 {
		t.Fatalf("eval: %s", out)
	}
	img := filepath.Join(dir, "probe.png")
	write(t, img, pngBytes(t, true, 3, false))
	status, out, stderr = runCLI(t, "", "predict", "--checkpoint", run, "--top", "2", "--json", img)
	if status != 0 {
		t.Fatalf("predict: %s", stderr)
	}
	var p struct {
		Probs []float64 `json:"probs"`
		Label int       `json:"label"`
		Class string    `json:"class"`
		Top   []any     `json:"top"`
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Probs) != 2 || len(p.Top) != 2 || (p.Class != "left" && p.Class != "right") {
		t.Fatalf("predict: %s", out)
	}
	red := filepath.Join(dir, "red.png")
	write(t, red, pngBytes(t, true, 3, true))
	status, _, stderr = runCLI(t, "", "predict", "--checkpoint", run, red)
	if status == 0 || !strings.Contains(stderr, "red.png") || !strings.Contains(stderr, "1-channel") {
		t.Fatalf("a colour image for a grayscale model: status %d, %q", status, stderr)
	}
}

func gz(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestImageBadInput(t *testing.T) {
	dir := t.TempDir()
	header := func(magic uint32, dims ...uint32) []byte {
		var buf bytes.Buffer
		binary.Write(&buf, binary.BigEndian, magic)
		for _, d := range dims {
			binary.Write(&buf, binary.BigEndian, d)
		}
		return buf.Bytes()
	}
	trunc := filepath.Join(dir, "trunc")
	write(t, filepath.Join(trunc, "train-images-idx3-ubyte.gz"), gz(t, append(header(0x803, 10, 28, 28), make([]byte, 100)...)))
	write(t, filepath.Join(trunc, "train-labels-idx1-ubyte.gz"), gz(t, append(header(0x801, 10), make([]byte, 10)...)))
	magic := filepath.Join(dir, "magic")
	write(t, filepath.Join(magic, "train-images-idx3-ubyte"), append(header(0x1234, 1, 2, 2), 0, 0, 0, 0))
	write(t, filepath.Join(magic, "train-labels-idx1-ubyte"), append(header(0x801, 1), 0))
	cifar := filepath.Join(dir, "cifar")
	write(t, filepath.Join(cifar, "data_batch_1.bin"), make([]byte, 3073*2+5))
	folder := filepath.Join(dir, "folder")
	write(t, filepath.Join(folder, "a", "1.png"), pngBytes(t, false, 1, false))
	write(t, filepath.Join(folder, "b", "notes.txt"), []byte("not an image"))
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"train", "convnet", "--data", trunc}, "train-images-idx3-ubyte.gz"},
		{[]string{"train", "convnet", "--data", magic}, "magic"},
		{[]string{"train", "convnet", "--data", cifar}, "3073"},
		{[]string{"train", "convnet", "--data", folder}, "notes.txt"},
		{[]string{"train", "convnet", "--format", "tiff"}, "tiff"},
		{[]string{"train", "convnet", "--augment", "rotate"}, "rotate"},
		{[]string{"train", "convnet", "--batch", "0"}, "batch must be at least 1"},
		{[]string{"train", "convnet", "--dropout", "1"}, "dropout must be in [0, 1)"},
		{[]string{"train", "convnet", "--schedule", "sawtooth"}, "sawtooth"},
		{[]string{"train", "convnet", "--init", "x", "--norm", "group"}, "drop --norm"},
	}
	for _, c := range cases {
		status, _, stderr := runCLI(t, "", c.args...)
		if status == 0 || strings.Contains(stderr, "internal error") || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: status %d, stderr %q (want one line mentioning %q)", c.args, status, stderr, c.want)
		}
	}
}
