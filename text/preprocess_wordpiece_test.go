package text

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestWordPiecePreprocess fits a WordPiece preprocessing, encodes texts
// (English, Chinese, an overlong one), reads it back from JSON and checks
// Validate's wordpiece rules.
func TestWordPiecePreprocess(t *testing.T) {
	texts := []string{"Free money, click now!", "Meeting moved to Monday.", "免费 赢取 大奖", "see you at the meeting on monday"}
	p, err := FitWordPiece(texts, []int{1, 0, 1, 0}, []string{"ham", "spam"}, 1, CleanOptions{}, LearnConfig{VocabSize: 60}, 8)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(2, 60, 8); err != nil {
		t.Fatal(err)
	}
	w := p.WordPiece
	if w.PadID() != 0 || !slices.Equal(p.Prior, []float64{0.5, 0.5}) {
		t.Fatalf("pad id %d, prior %v", w.PadID(), p.Prior)
	}
	ids, err := p.IDs([]string{"meeting", "免费", strings.Repeat("money ", 50)})
	if err != nil {
		t.Fatal(err)
	}
	row := func(i int) []float32 { return ids[i*8 : (i+1)*8] }
	if r := row(0); int(r[0]) != w.CLSID() || r[7] != 0 || p.Known(r) == 0 {
		t.Errorf("row %v: want [CLS] first, padding after, known pieces", r)
	}
	if r := row(1); p.Known(r) != 2 { // 免 费: one piece each
		t.Errorf("Chinese row %v: %d known, want 2", r, p.Known(r))
	}
	if r := row(2); int(r[0]) != w.CLSID() || int(r[7]) != w.SEPID() || p.Known(r) != 6 {
		t.Errorf("long row %v: want [CLS] 6 pieces [SEP]", r)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var q Preprocess
	if err := json.Unmarshal(b, &q); err != nil {
		t.Fatal(err)
	}
	again, err := q.IDs([]string{"meeting", "免费", strings.Repeat("money ", 50)})
	if err != nil || !slices.Equal(again, ids) || q.Tokenizer != nil {
		t.Fatalf("after JSON: %v %v", again, err)
	}
	for _, c := range []struct {
		name   string
		edit   func(p *Preprocess)
		vocab  int
		substr string
	}{
		{"small embedding", func(*Preprocess) {}, 10, "vocab_size"},
		{"pre padding", func(p *Preprocess) { p.Pad.Padding = "pre" }, 60, "post"},
		{"both", func(p *Preprocess) { p.Tokenizer = NewTokenizer(TokenizerConfig{}) }, 60, "want one"},
	} {
		r := q
		c.edit(&r)
		if err := r.Validate(2, c.vocab, 8); err == nil || !strings.Contains(err.Error(), c.substr) {
			t.Errorf("%s: %v, want an error about %s", c.name, err, c.substr)
		}
	}
	var bad Preprocess
	if err := json.Unmarshal([]byte(`{"wordpiece":{"config":{},"vocab":["[PAD]","a","a"]}}`), &bad); err == nil {
		t.Error("a duplicate token was accepted")
	}
}
