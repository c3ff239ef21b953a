package metrics

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// The golden PNG is compared pixel by pixel, not byte by byte, so a change
// in Go's PNG compressor does not fail the test; open
// testdata/history_plot.png to see what the plot looks like.
func TestPlotPNGGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := PlotPNG(trainingRun(t), &buf); err != nil {
		t.Fatal(err)
	}
	got, err := png.Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("output is not a PNG: %v", err)
	}
	if b := got.Bounds(); b.Dx() != PlotWidth || b.Dy() != PlotHeight {
		t.Fatalf("size %v, want %dx%d", b.Size(), PlotWidth, PlotHeight)
	}
	path := filepath.Join("testdata", "history_plot.png")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	defer f.Close()
	want, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if n := differingPixels(got, want); n > 0 {
		t.Errorf("%d pixels differ from %s (go test -update rewrites it)", n, path)
	}
}

func differingPixels(a, b image.Image) int {
	if a.Bounds() != b.Bounds() {
		return a.Bounds().Dx() * a.Bounds().Dy()
	}
	n := 0
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			r1, g1, b1, a1 := a.At(x, y).RGBA()
			r2, g2, b2, a2 := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
				n++
			}
		}
	}
	return n
}

func TestPlotPNGEdgeCases(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name    string
		records [][]Named
	}{
		{"empty", nil},
		{"single epoch", [][]Named{{{"epoch", 1}, {"train/loss", 0.7}, {"val/loss", 0.8}, {"val/accuracy", 0.5}}}},
		{"constant", [][]Named{{{"train/loss", 0}, {"val/accuracy", 1}}, {{"train/loss", 0}, {"val/accuracy", 1}}}},
		{"all NaN", [][]Named{{{"train/loss", nan}}, {{"train/loss", nan}}}},
		{"gaps and infinities", [][]Named{
			{{"train/loss", 1}, {"val/loss", nan}},
			{{"train/loss", math.Inf(1)}, {"val/loss", 0.5}},
			{{"train/loss", 0.5}, {"val/loss", nan}},
			{{"train/loss", 0.4}, {"val/loss", 0.45}},
		}},
		{"huge and tiny", [][]Named{{{"train/loss", 3e9}, {"val/rmse", 1e-9}}, {{"train/loss", -2e9}, {"val/rmse", 2e-9}}}},
		{"only bookkeeping", [][]Named{{{"epoch", 1}, {"lr", 0.1}, {"time_s", 3}}}},
		{"many series and epochs", manyEpochs()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h History
			for _, r := range tt.records {
				if err := h.Append(r); err != nil {
					t.Fatal(err)
				}
			}
			var first, second bytes.Buffer
			if err := PlotPNG(&h, &first); err != nil {
				t.Fatal(err)
			}
			if err := PlotPNG(&h, &second); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(first.Bytes(), second.Bytes()) {
				t.Error("two plots of the same history differ")
			}
			img, err := png.Decode(&first)
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != PlotWidth || b.Dy() != PlotHeight {
				t.Errorf("size %v", b.Size())
			}
		})
	}
}

func manyEpochs() [][]Named {
	var rs [][]Named
	for e := 1; e <= 300; e++ {
		x := float64(e)
		rs = append(rs, []Named{
			{"epoch", x}, {"train/loss", 1 / x}, {"val/loss", 1.1 / x}, {"test/loss", 1.2 / x},
			{"train/accuracy", 1 - 1/x}, {"val/accuracy", 1 - 1.1/x}, {"val/precision", 0.9},
			{"val/recall", 0.8}, {"val/f1", 0.85}, {"val/auc", 0.95},
		})
	}
	return rs
}

func TestTicks(t *testing.T) {
	tests := []struct {
		lo, hi   float64
		max      int
		integers bool
		want     []string
	}{
		{0, 1, 6, false, []string{"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"}},
		{0.5, 12.5, 8, true, []string{"2", "4", "6", "8", "10", "12"}},
		{0.5, 1.5, 8, true, []string{"1"}},
		{0.151, 0.598, 6, false, []string{"0.2", "0.3", "0.4", "0.5"}},
		{-0.25, 0.25, 6, false, []string{"-0.2", "-0.1", "0.0", "0.1", "0.2"}},
		{0.91, 0.94, 6, false, []string{"0.910", "0.915", "0.920", "0.925", "0.930", "0.935", "0.940"}},
	}
	for _, tt := range tests {
		ts := ticks(tt.lo, tt.hi, tt.max, tt.integers)
		var got []string
		for _, v := range ts.values {
			got = append(got, ts.label(v))
		}
		if len(got) != len(tt.want) {
			t.Errorf("ticks(%v, %v) = %v, want %v", tt.lo, tt.hi, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("ticks(%v, %v) = %v, want %v", tt.lo, tt.hi, got, tt.want)
				break
			}
		}
	}
}
