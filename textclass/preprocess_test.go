package textclass

import (
	"strings"
	"testing"

	"github.com/tapeml/tapeml/text"
	"github.com/tapeml/tapeml/textdata"
)

func corpus() *textdata.TextCorpus {
	return &textdata.TextCorpus{
		Classes:  []string{"ham", "spam"},
		Positive: 1,
		Train: []textdata.TextExample{
			{Text: "free money now", Label: 1},
			{Text: "meeting at noon", Label: 0},
			{Text: "free prize", Label: 1},
		},
		Test: []textdata.TextExample{{Text: "unseen words only", Label: 0}},
	}
}

func TestFitLearnsTheTrainingVocabularyOnly(t *testing.T) {
	p, err := Fit(corpus(), text.CleanOptions{}, text.TokenizerConfig{NumWords: 100}, text.PadConfig{MaxLen: 4}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if p.Tokenizer.WordIndex["free"] != 1 {
		t.Fatalf("most frequent word 'free' has index %d, want 1", p.Tokenizer.WordIndex["free"])
	}
	if _, ok := p.Tokenizer.WordIndex["unseen"]; ok {
		t.Fatal("the tokenizer learnt a test word")
	}
	ds, err := Dataset(p, corpus().Train)
	if err != nil {
		t.Fatal(err)
	}
	// 'pre' padding: "free money now" → [0, free, money, now].
	if got := ds.Inputs[0][:4]; got[0] != 0 || got[1] != 1 || ds.Targets[0] != 1 || ds.Targets[1] != 0 {
		t.Fatalf("first row %v, targets %v", got, ds.Targets)
	}
}

func TestEncodingCleansLikeTraining(t *testing.T) {
	p, err := Fit(corpus(), text.CleanOptions{}, text.TokenizerConfig{NumWords: 100}, text.PadConfig{MaxLen: 4}, 1)
	if err != nil {
		t.Fatal(err)
	}
	raw := "From: a@b.c\nSubject: x\n\nfree <b>prize</b>"
	ids, err := p.IDs([]string{p.Clean.Clean(raw), ""})
	if err != nil {
		t.Fatal(err)
	}
	want := []int{0, 0, p.Tokenizer.WordIndex["free"], p.Tokenizer.WordIndex["prize"]}
	for i, v := range want {
		if int(ids[i]) != v {
			t.Fatalf("ids %v, want %v (headers dropped, HTML reduced)", ids[:4], want)
		}
	}
	if len(ids) != 8 {
		t.Fatalf("an empty text must still give a row of padding: %v", ids)
	}
}

func TestFitManyClasses(t *testing.T) {
	c := corpus()
	c.Classes, c.Positive = []string{"a", "b", "c"}, -1
	c.Train = append(c.Train, textdata.TextExample{Text: "third class here", Label: 2})
	p, err := Fit(c, text.CleanOptions{}, text.TokenizerConfig{NumWords: 100}, text.PadConfig{MaxLen: 4}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if p.Positive != -1 || len(p.Prior) != 3 || p.Prior[2] != 0.25 || p.Prior[1] != 0.5 {
		t.Fatalf("positive %d, prior %v", p.Positive, p.Prior)
	}
	ds, err := Dataset(p, c.Train)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Targets[0] != 1 || ds.Targets[1] != 0 || ds.Targets[3] != 2 {
		t.Fatalf("targets %v, want the class indices", ds.Targets)
	}
	c.Classes = []string{"only"}
	if _, err := Fit(c, text.CleanOptions{}, text.TokenizerConfig{NumWords: 100}, text.PadConfig{MaxLen: 4}, 1); err == nil || !strings.Contains(err.Error(), "at least 2 classes") {
		t.Fatalf("err = %v", err)
	}
}
