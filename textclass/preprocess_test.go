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
	p, err := Fit(corpus(), text.CleanOptions{}, 100, 4)
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
	p, err := Fit(corpus(), text.CleanOptions{}, 100, 4)
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

func TestFitNeedsTwoClasses(t *testing.T) {
	c := corpus()
	c.Classes = []string{"a", "b", "c"}
	if _, err := Fit(c, text.CleanOptions{}, 100, 4); err == nil || !strings.Contains(err.Error(), "3 classes") {
		t.Fatalf("err = %v", err)
	}
}
