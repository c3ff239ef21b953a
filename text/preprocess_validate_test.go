package text

import (
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	good := func() *Preprocess {
		tok := NewTokenizer(TokenizerConfig{NumWords: 10})
		tok.Fit([]string{"free money now", "see you at lunch"})
		return &Preprocess{Tokenizer: tok, Pad: PadConfig{MaxLen: 5}, Classes: []string{"ham", "spam"}, Positive: 1}
	}
	if err := good().Validate(10, 5); err != nil {
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
		{"three classes", func(p *Preprocess) { p.Classes = append(p.Classes, "x") }, 10, "needs 2 class names"},
		{"no classes", func(p *Preprocess) { p.Classes = nil }, 10, "needs 2 class names"},
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
			if err := p.Validate(tc.numWords, 5); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}
