package text

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestTokenizerJSONRoundTrip(t *testing.T) {
	first := []string{"The cat sat on the mat.", "The dog ate my homework!"}
	later := []string{"a cat, a dog; a bird"}

	tok := NewTokenizer(TokenizerConfig{NumWords: 5, OOVToken: "<OOV>"})
	tok.Fit(first)
	b, err := json.Marshal(tok)
	if err != nil {
		t.Fatal(err)
	}
	var back Tokenizer
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("Unmarshal(%s): %v", b, err)
	}
	probe := []string{"the cat and a bird", "homework"}
	if got, want := back.Sequences(probe), tok.Sequences(probe); !reflect.DeepEqual(got, want) {
		t.Errorf("restored Sequences = %v, want %v", got, want)
	}
	// Fitting more after a round trip must continue exactly where it was.
	tok.Fit(later)
	back.Fit(later)
	if !reflect.DeepEqual(back.WordCounts, tok.WordCounts) || !reflect.DeepEqual(back.WordIndex, tok.WordIndex) {
		t.Errorf("after round trip and Fit:\n got %v %v\nwant %v %v", back.WordCounts, back.WordIndex, tok.WordCounts, tok.WordIndex)
	}
	if back.DocumentCount != 3 {
		t.Errorf("DocumentCount = %d, want 3", back.DocumentCount)
	}
}

func TestTokenizerJSONErrors(t *testing.T) {
	tests := []struct{ name, json, wantErr string }{
		{"not an object", `[1]`, "cannot unmarshal"},
		{"empty split", `{"split": "", "word_index": {}}`, `"split"`},
		{"negative num_words", `{"split": " ", "num_words": -2}`, `"num_words"`},
		{"negative document_count", `{"split": " ", "document_count": -1}`, `"document_count"`},
		{"bad word count pair", `{"split": " ", "word_counts": [["a", 1, 2]]}`, "[word, count]"},
		{"zero count", `{"split": " ", "word_counts": [["a", 0]]}`, `"a"`},
		{"repeated word", `{"split": " ", "word_counts": [["a", 1], ["a", 2]]}`, "repeated"},
		{"index 0", `{"split": " ", "word_index": {"a": 0}}`, `"word_index"["a"]`},
		{"oov without index", `{"split": " ", "oov_token": "?", "word_index": {"a": 1}}`, "oov_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tok Tokenizer
			err := json.Unmarshal([]byte(tt.json), &tok)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Unmarshal(%s) error = %v, want one mentioning %s", tt.json, err, tt.wantErr)
			}
		})
	}
}

func TestNewTokenizerDefaults(t *testing.T) {
	tok := NewTokenizer(TokenizerConfig{})
	if tok.Filters != DefaultFilters || !tok.Lower || tok.Split != " " || tok.NumWords != 0 || tok.OOVToken != "" {
		t.Errorf("NewTokenizer(zero config) = %+v, want Keras defaults", tok)
	}
	if got := NewTokenizer(TokenizerConfig{NoFilters: true, Filters: "x"}).Filters; got != "" {
		t.Errorf("NoFilters: Filters = %q, want empty", got)
	}
}

func TestVocabSize(t *testing.T) {
	tests := []struct {
		cfg  TokenizerConfig
		fit  []string
		want int
	}{
		{TokenizerConfig{}, nil, 1},
		{TokenizerConfig{}, []string{"a b c"}, 4},
		{TokenizerConfig{OOVToken: "?"}, []string{"a b c"}, 5},
		{TokenizerConfig{NumWords: 3}, []string{"a b c d"}, 3},
		{TokenizerConfig{NumWords: 100}, []string{"a b c d"}, 5},
		// The OOV token also occurring in the text leaves index 1 unused
		// but still counts as the largest index it gets.
		{TokenizerConfig{OOVToken: "x"}, []string{"x y"}, 4},
	}
	for _, tt := range tests {
		tok := NewTokenizer(tt.cfg)
		tok.Fit(tt.fit)
		if got := tok.VocabSize(); got != tt.want {
			t.Errorf("%+v fit %q: VocabSize = %d, want %d", tt.cfg, tt.fit, got, tt.want)
		}
		for _, seq := range tok.Sequences(append(tt.fit, "zzz unknown")) {
			for _, i := range seq {
				if i >= tok.VocabSize() {
					t.Errorf("%+v: index %d >= VocabSize %d", tt.cfg, i, tok.VocabSize())
				}
			}
		}
	}
}

// TestOneRuneSplitMatchesTranslate checks the one-pass splitter against the
// literal translate-then-split algorithm on awkward inputs.
func TestOneRuneSplitMatchesTranslate(t *testing.T) {
	texts := []string{"", " ", "a", "  a  b ", "a,b,,c", "é—x—", "—", "a\tb\nc", "ΣΑΣ, Σ.", "x\xffy"}
	for _, split := range []string{" ", ",", "—", "x"} {
		for _, filters := range []string{"", DefaultFilters, "—é", ","} {
			for _, s := range texts {
				got := wordSequence(s, filters, true, split, false)
				lowered := lowerLikePython(s)
				for _, r := range filters {
					lowered = strings.ReplaceAll(lowered, string(r), split)
				}
				var want []string
				for _, w := range strings.Split(lowered, split) {
					if w != "" {
						want = append(want, w)
					}
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("wordSequence(%q, filters %q, split %q) = %q, want %q", s, filters, split, got, want)
				}
			}
		}
	}
}
