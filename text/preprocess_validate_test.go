package text

import (
	"math"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	good := func() *Preprocess {
		tok := NewTokenizer(TokenizerConfig{NumWords: 10})
		tok.Fit([]string{"free money now", "see you at lunch"})
		return &Preprocess{Tokenizer: tok, Pad: PadConfig{MaxLen: 5}, Classes: []string{"ham", "spam"}, Positive: 1}
	}
	if err := good().Validate(2, 10, 5); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		edit     func(*Preprocess)
		numWords int
		want     string
	}{
		{"positive out of range", func(p *Preprocess) { p.Positive = 7 }, 10, "positive 7 is not an index of classes"},
		{"negative positive", func(p *Preprocess) { p.Positive = -1 }, 10, "positive -1"},
		{"three classes", func(p *Preprocess) { p.Classes = append(p.Classes, "x") }, 10, "the model has 2 classes"},
		{"no classes", func(p *Preprocess) { p.Classes = nil }, 10, "the model has 2 classes"},
		{"truncating", func(p *Preprocess) { p.Pad.Truncating = "middle" }, 10, `pad truncating "middle"`},
		{"pad value", func(p *Preprocess) { p.Pad.Value = 3 }, 10, "pad value 3"},
		{"prior length", func(p *Preprocess) { p.Prior = []float64{1} }, 10, "prior has 1 values for 2 classes"},
		{"prior sum", func(p *Preprocess) { p.Prior = []float64{0.5, 0.6} }, 10, "prior sums to"},
		{"prior NaN", func(p *Preprocess) { p.Prior = []float64{math.NaN(), 1} }, 10, "prior[0] is NaN"},
		{"same names", func(p *Preprocess) { p.Classes = []string{"a", "a"} }, 10, "must differ"},
		{"maxlen", func(p *Preprocess) { p.Pad.MaxLen = 6 }, 10, "pad maxlen 6, but the model reads 5"},
		{"padding", func(p *Preprocess) { p.Pad.Padding = "middle" }, 10, `pad padding "middle"`},
		{"no tokenizer", func(p *Preprocess) { p.Tokenizer = nil }, 10, "no tokenizer"},
		{"ids past the embedding", func(p *Preprocess) {}, 4, "ids up to 7, but the model embeds only 4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := good()
			tc.edit(p)
			if err := p.Validate(2, tc.numWords, 5); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}
