package charts

import (
	"bytes"
	"encoding/xml"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"

	"github.com/tapeml/tapeml/metrics"
)

// svgTexts renders f as SVG and returns its text elements' contents, and
// checks that the PNG rendering decodes at the figure's size.
func svgTexts(t *testing.T, f *Figure) []string {
	t.Helper()
	var svg, pngBuf bytes.Buffer
	if err := f.Write(&svg, SVG); err != nil {
		t.Fatal(err)
	}
	if err := f.Write(&pngBuf, PNG); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&pngBuf)
	if err != nil {
		t.Fatalf("the PNG does not decode: %v", err)
	}
	if b := img.Bounds(); b.Dx() != int(math.Round(float64(f.Width/vg.Inch)*dpi)) || b.Dy() != int(math.Round(float64(f.Height/vg.Inch)*dpi)) {
		t.Errorf("PNG %v for a figure of %v×%v", b.Size(), f.Width, f.Height)
	}
	var texts []string
	d := xml.NewDecoder(&svg)
	in := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			in = tok.Name.Local == "text"
		case xml.CharData:
			if in {
				texts = append(texts, strings.TrimSpace(string(tok)))
			}
		case xml.EndElement:
			in = false
		}
	}
	return texts
}

func hasAll(t *testing.T, texts []string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !slices.ContainsFunc(texts, func(s string) bool { return strings.Contains(s, w) }) {
			t.Errorf("no text %q among %q", w, texts)
		}
	}
}

// trainingRun is a made-up 12-epoch run: validation overfits from epoch 8,
// its AUC is missing at epoch 3, a DP run's ε grows.
func trainingRun(t *testing.T) *metrics.History {
	var h metrics.History
	for e := 1; e <= 12; e++ {
		x := float64(e)
		auc := 0.97 - 0.3*math.Exp(-x/2.5)
		if e == 3 {
			auc = math.NaN()
		}
		err := h.Append([]metrics.Named{{Name: "epoch", Value: x},
			{Name: "train/loss", Value: 0.15 + 0.55*math.Exp(-x/3)},
			{Name: "train/accuracy", Value: 0.9 - 0.3*math.Exp(-x/3)},
			{Name: "val/loss", Value: 0.25 + 0.45*math.Exp(-x/3) + 0.01*math.Max(0, x-8)*math.Max(0, x-8)},
			{Name: "val/accuracy", Value: 0.85 - 0.3*math.Exp(-x/3)},
			{Name: "val/auc", Value: auc},
			{Name: "lr", Value: 0.001}, {Name: "epsilon", Value: math.Sqrt(x)}, {Name: "time_s", Value: 4}})
		if err != nil {
			t.Fatal(err)
		}
	}
	return &h
}

// The history figure has a titled panel per metric family, the epoch
// axis, train and val legends and the best epoch marked; lr and time_s
// are not drawn.
func TestHistoryFigure(t *testing.T) {
	f := History(trainingRun(t), HistoryOptions{Title: "textcnn · runs/x", Monitor: "val/loss", BestEpoch: 8})
	texts := svgTexts(t, f)
	hasAll(t, texts, "textcnn · runs/x", "12 epochs; best epoch 8 by val/loss", "loss", "accuracy", "auc", "ε spent (privacy)",
		"epoch", "train", "val", "best epoch 8", "best val/loss", "10")
	for _, s := range texts {
		if s == "lr" || s == "time_s" {
			t.Errorf("a panel for %q", s)
		}
	}
}

// Degenerate histories draw without failing, the same way twice.
func TestHistoryFigureEdgeCases(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		name    string
		records [][]metrics.Named
	}{
		{"empty", nil},
		{"single epoch", [][]metrics.Named{{{Name: "epoch", Value: 1}, {Name: "train/loss", Value: 0.7}, {Name: "val/loss", Value: 0.8}}}},
		{"constant", [][]metrics.Named{{{Name: "train/loss", Value: 0}}, {{Name: "train/loss", Value: 0}}}},
		{"all NaN", [][]metrics.Named{{{Name: "train/loss", Value: nan}}, {{Name: "train/loss", Value: nan}}}},
		{"gaps and infinities", [][]metrics.Named{{{Name: "train/loss", Value: 1}}, {{Name: "train/loss", Value: math.Inf(1)}}, {{Name: "train/loss", Value: 0.5}}}},
		{"huge and tiny", [][]metrics.Named{{{Name: "train/loss", Value: 3e9}, {Name: "val/rmse", Value: 1e-9}}, {{Name: "train/loss", Value: -2e9}, {Name: "val/rmse", Value: 2e-9}}}},
		{"only bookkeeping", [][]metrics.Named{{{Name: "epoch", Value: 1}, {Name: "lr", Value: 0.1}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var h metrics.History
			for _, r := range c.records {
				if err := h.Append(r); err != nil {
					t.Fatal(err)
				}
			}
			f := History(&h, HistoryOptions{Title: c.name, Monitor: "val/loss", BestEpoch: 1})
			texts := svgTexts(t, f)
			hasAll(t, texts, c.name)
			var a, b bytes.Buffer
			if err := f.Write(&a, PNG); err != nil {
				t.Fatal(err)
			}
			if err := f.Write(&b, PNG); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Error("two renderings of the same history differ")
			}
		})
	}
}

// The attribution map has its title lines, panel titles, and a colour
// bar labelled with the target and numbered on the scores' scale.
func TestAttributionFigure(t *testing.T) {
	const w, h = 8, 6
	img := image.NewGray(image.Rect(0, 0, w, h))
	scores := make([]float64, w*h)
	for i := range scores {
		img.Pix[i] = uint8(i * 5)
		scores[i] = float64(i-w*h/2) / 10 // −2.4 … 2.3
	}
	f, err := AttributionMap{Image: img, Width: w, Height: h, Scores: scores, Target: "Sandal",
		Title: []string{"predicted Sandal (p = 0.910) · true Ankle boot", "IG, adaptive"}}.Figure()
	if err != nil {
		t.Fatal(err)
	}
	texts := svgTexts(t, f)
	hasAll(t, texts, "predicted Sandal (p = 0.910) · true Ankle boot", "IG, adaptive", "input", "attribution over the input",
		"green: for Sandal, red: against it", "-2", "2")
	if _, err := (AttributionMap{Image: img, Width: w, Height: h, Scores: scores[:3]}).Figure(); err == nil {
		t.Error("want an error for too few scores")
	}
	scores[0] = math.NaN()
	if _, err := (AttributionMap{Image: img, Width: w, Height: h, Scores: scores}).Figure(); err == nil {
		t.Error("want an error for a NaN score")
	}
}

func TestDiverging(t *testing.T) {
	d := NewDiverging(2)
	for _, c := range []struct {
		v    float64
		want color.Color
	}{{-2, Against}, {-5, Against}, {0, color.White}, {2, For}} {
		got, err := d.At(c.v)
		if err != nil {
			t.Fatal(err)
		}
		if Hex(got) != Hex(c.want) {
			t.Errorf("At(%v) = %s, want %s", c.v, Hex(got), Hex(c.want))
		}
	}
	if _, err := d.At(math.NaN()); err == nil {
		t.Error("At(NaN) gave a colour")
	}
}

func TestConfusionFigure(t *testing.T) {
	m := metrics.Confusion{{5, 1, 0}, {2, 7, 1}, {0, 0, 9}}
	f, err := Confusion(m, []string{"cat", "dog", "bird"})
	if err != nil {
		t.Fatal(err)
	}
	hasAll(t, svgTexts(t, f), "confusion matrix", "accuracy 0.8400 (n=25)", "cat", "dog", "bird", "predicted class", "true class", "7", "9")
	if _, err := Confusion(m, []string{"cat"}); err == nil {
		t.Error("want an error for too few class names")
	}
}
