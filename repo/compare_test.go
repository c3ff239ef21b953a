package repo

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tapeml/tapeml"
)

// TestCompareMatchesEvalAndADirectCount compares two versions trained
// with different seeds: each side's metrics are eval's, and the agreement
// is the count of test messages both classify alike, counted directly
// with ClassifyTexts.
func TestCompareMatchesEvalAndADirectCount(t *testing.T) {
	data, runs := sharedFixture(t)
	ctx := context.Background()
	a, err := tapeml.Load(runs[0])
	if err != nil {
		t.Fatal(err)
	}
	b, err := tapeml.Load(runs[1])
	if err != nil {
		t.Fatal(err)
	}
	c, err := Compare(ctx, a, b, "1", "2", CompareOptions{Data: data, Show: 3})
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range []*tapeml.Model{a, b} {
		r, err := m.EvaluateRunData(ctx, tapeml.EvalOptions{Data: data})
		if err != nil {
			t.Fatal(err)
		}
		side := []Scored{c.A, c.B}[i]
		for j, mt := range r.Metrics {
			if got := side.Metrics[j]; got.Name != mt.Name || got.Value == nil || *got.Value != mt.Value {
				t.Errorf("version %d: compare %s=%v, eval %s=%v", i+1, got.Name, got.Value, mt.Name, mt.Value)
			}
		}
	}
	// The direct count, over the raw test messages.
	var texts []string
	for _, class := range []string{"billing", "tech"} {
		files, _ := filepath.Glob(filepath.Join(data, "test", class, "*.txt"))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			texts = append(texts, string(b))
		}
	}
	pa, err := a.ClassifyTexts(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := b.ClassifyTexts(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	agree := 0
	for i := range pa {
		if pa[i].Label == pb[i].Label {
			agree++
		}
	}
	if c.N != len(texts) || c.Agree != agree {
		t.Fatalf("compare: %d of %d agree; direct count: %d of %d", c.Agree, c.N, agree, len(texts))
	}
	t.Logf("agreement %d/%d = %.3f; %d disagreements shown; seeds %d and %d (resplit %v)", c.Agree, c.N, c.Agreement, len(c.Disagree), c.A.Seed, c.B.Seed, c.Resplit)
	if len(c.PerClass) != 2 || c.PerClass[0].Support+c.PerClass[1].Support != c.N {
		t.Fatalf("per class %+v", c.PerClass)
	}
	for i := 1; i < len(c.Disagree); i++ {
		if c.Disagree[i].Distance > c.Disagree[i-1].Distance {
			t.Fatalf("disagreements not by distance: %+v", c.Disagree)
		}
	}
	if len(c.Disagree) > 3 || (c.N-c.Agree > 0 && len(c.Disagree) == 0) {
		t.Fatalf("%d disagreements shown of %d", len(c.Disagree), c.N-c.Agree)
	}
}
