package samples

import (
	"reflect"
	"strings"
	"testing"

	"github.com/tapeml/tapeml/text"
	"github.com/tapeml/tapeml/textdata"
)

func TestSpamAssassinMessages(t *testing.T) {
	if n := len(spamAssassinGzip); n > 4<<20 {
		t.Errorf("embedded sample is %d bytes, want at most 4 MiB", n)
	}
	msgs, err := SpamAssassinMessages()
	if err != nil {
		t.Fatal(err)
	}
	groups := map[string]int{}
	seen := map[string]bool{}
	for i, m := range msgs {
		groups[m.Group]++
		if !strings.HasPrefix(m.Source, "spamassassin.jsonl.gz:"+m.Group+"/"+m.ID+".") || !strings.HasSuffix(m.Source, ".json") {
			t.Errorf("message %d: Source %q", i, m.Source)
		}
		if seen[m.Source] {
			t.Errorf("message %s repeated", m.Source)
		}
		seen[m.Source] = true
		if i > 0 && msgs[i-1].Source >= m.Source {
			t.Errorf("messages not sorted at %d", i)
		}
		if strings.TrimSpace(m.Text) == "" {
			t.Errorf("message %s is empty", m.Source)
		}
	}
	// Shares of 2,000 in the full corpus's proportions (2500, 1400, 250,
	// 500, 1396 of 6046), by largest remainder.
	want := map[string]int{"easy-ham-1": 827, "easy-ham-2": 463, "hard-ham-1": 83, "spam-1": 165, "spam-2": 462}
	if !reflect.DeepEqual(groups, want) {
		t.Errorf("groups = %v, want %v", groups, want)
	}
	// Stored as the corpus has them: headers included.
	withHeaders := 0
	for _, m := range msgs {
		if strings.HasPrefix(m.Text, "From ") || strings.HasPrefix(m.Text, "Return-Path:") {
			withHeaders++
		}
	}
	if withHeaders < len(msgs)*9/10 {
		t.Errorf("only %d of %d messages start with a header", withHeaders, len(msgs))
	}
}

func TestSpamAssassin(t *testing.T) {
	corpus, err := SpamAssassin(textdata.TextOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(corpus.Classes, []string{"ham", "spam"}) || corpus.Positive != 1 {
		t.Fatalf("Classes %q Positive %d, want [ham spam] 1", corpus.Classes, corpus.Positive)
	}
	// ham 1373 → 137/137 held out, spam 627 → 63/63 (textdata.SplitText).
	for _, split := range []struct {
		name string
		ex   []textdata.TextExample
		want []int
	}{
		{"train", corpus.Train, []int{1099, 501}},
		{"val", corpus.Val, []int{137, 63}},
		{"test", corpus.Test, []int{137, 63}},
	} {
		if got := corpus.Counts(split.ex); !reflect.DeepEqual(got, split.want) {
			t.Errorf("%s counts = %v, want %v", split.name, got, split.want)
		}
	}
	// Headers are dropped by default; a few bodies start with the headers
	// of a forwarded message.
	headed := 0
	for _, ex := range corpus.Train {
		if strings.HasPrefix(ex.Text, "Return-Path:") || strings.HasPrefix(ex.Text, "From ") {
			headed++
		}
	}
	if headed > len(corpus.Train)/100 {
		t.Errorf("%d of %d cleaned texts start with a header", headed, len(corpus.Train))
	}

	// The split is data's: the same messages through textdata.SpamAssassinCorpus.
	msgs, err := SpamAssassinMessages()
	if err != nil {
		t.Fatal(err)
	}
	raw := textdata.TextOptions{CleanOptions: text.CleanOptions{KeepHeaders: true, KeepHTML: true}, Seed: 5}
	viaData, err := textdata.SpamAssassinCorpus(msgs, raw)
	if err != nil {
		t.Fatal(err)
	}
	viaSamples, err := SpamAssassin(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(viaData, viaSamples) {
		t.Error("SpamAssassin differs from textdata.SpamAssassinCorpus on the same messages")
	}
	if reflect.DeepEqual(viaSamples.Test, corpus.Test) {
		t.Error("seed 5 and seed 0 gave the same test split")
	}
}

func TestSpamAssassinGroups(t *testing.T) {
	corpus, err := SpamAssassinGroups(textdata.TextOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(corpus.Classes, []string{"easy_ham", "hard_ham", "spam"}) || corpus.Positive != -1 {
		t.Fatalf("classes %v, positive %d", corpus.Classes, corpus.Positive)
	}
	total := make([]int, 3)
	for _, part := range [][]textdata.TextExample{corpus.Train, corpus.Val, corpus.Test} {
		for i, n := range corpus.Counts(part) {
			total[i] += n
		}
	}
	// The groups of TestSpamAssassinMessages: 827+463 easy, 83 hard,
	// 165+462 spam; stratified, so hard ham is in every split.
	if !reflect.DeepEqual(total, []int{1290, 83, 627}) {
		t.Errorf("class counts %v", total)
	}
	if n := corpus.Counts(corpus.Test)[1]; n < 7 || n > 9 {
		t.Errorf("%d hard ham messages in the test split, want about 8", n)
	}
	// The same messages as the binary task's, the same split.
	binary, err := SpamAssassin(textdata.TextOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(binary.Test) != len(corpus.Test) {
		t.Errorf("test splits of %d and %d messages", len(binary.Test), len(corpus.Test))
	}
}
