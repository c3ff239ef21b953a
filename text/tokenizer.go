package text

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// DefaultFilters are the characters Keras's Tokenizer replaces by the split
// string before splitting: ASCII punctuation except the apostrophe, plus tab
// and newline.
const DefaultFilters = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n"

// TokenizerConfig configures NewTokenizer. The zero value gives Keras's
// defaults: Tokenizer(num_words=None, filters=DefaultFilters, lower=True,
// split=" ", oov_token=None).
type TokenizerConfig struct {
	// NumWords limits Sequences to the words whose index is < NumWords, that
	// is the NumWords-1 most frequent ones (counting the OOV token, which has
	// index 1). Fit still counts every word. Default 0: no limit;
	// negative values panic.
	NumWords int

	// Filters are the characters replaced by Split before splitting.
	// Default "": DefaultFilters. Set NoFilters to replace none.
	Filters string

	// NoFilters disables filtering (Keras filters=""). Default false.
	NoFilters bool

	// KeepCase disables lower-casing (Keras lower=False). Default false:
	// texts are lower-cased like Python's str.lower.
	KeepCase bool

	// Split is the word separator. Default "": a single space.
	Split string

	// OOVToken, when set, is given index 1 and stands for every word that
	// is unknown or beyond NumWords. Default "": such words are dropped.
	OOVToken string

	// CJK makes every character of the CJK ideograph blocks a word of its
	// own, as BERT's BasicTokenizer does (_tokenize_chinese_chars, the same
	// code-point ranges: IsCJK), so that Chinese and Japanese kanji text,
	// written without spaces, tokenizes; Latin words around them stay
	// words. Keras has no such option. Default false.
	CJK bool
}

// WordCount is one entry of Tokenizer.WordCounts. It is encoded in JSON as
// the pair [word, count], the form of Keras's word_counts items.
type WordCount struct {
	Word  string
	Count int
}

// MarshalJSON encodes c as [word, count].
func (c WordCount) MarshalJSON() ([]byte, error) {
	return json.Marshal([2]any{c.Word, c.Count})
}

// UnmarshalJSON decodes [word, count].
func (c *WordCount) UnmarshalJSON(b []byte) error {
	var pair []json.RawMessage
	if err := json.Unmarshal(b, &pair); err != nil {
		return fmt.Errorf("word count: want [word, count]: %w", err)
	}
	if len(pair) != 2 {
		return fmt.Errorf("word count: want [word, count], got %d elements", len(pair))
	}
	if err := json.Unmarshal(pair[0], &c.Word); err != nil {
		return fmt.Errorf("word count: word: %w", err)
	}
	if err := json.Unmarshal(pair[1], &c.Count); err != nil {
		return fmt.Errorf("word count %q: count: %w", c.Word, err)
	}
	return nil
}

// Tokenizer turns texts into sequences of word indices with the semantics
// of Keras's tf.keras.preprocessing.text.Tokenizer (word level). Its
// exported fields are its whole state, so a fitted Tokenizer survives a
// round trip through encoding/json (for instance in a checkpoint's
// meta.json); decoding validates the state.
//
// A Tokenizer is not safe for concurrent Fit; Sequences, Sequence and Words
// only read it and may run concurrently.
type Tokenizer struct {
	NumWords int    `json:"num_words"`
	Filters  string `json:"filters"`
	Lower    bool   `json:"lower"`
	Split    string `json:"split"`
	OOVToken string `json:"oov_token,omitempty"`
	// CJK splits CJK ideographs into words of one character
	// (TokenizerConfig.CJK); absent in tokenizers saved before it existed.
	CJK bool `json:"cjk,omitempty"`

	// WordCounts holds every word seen by Fit in first-seen order, which
	// breaks ties between equally frequent words as Keras's OrderedDict does.
	WordCounts []WordCount `json:"word_counts"`

	// WordIndex maps words to their index: 1 for OOVToken if set, then
	// words by decreasing count. Index 0 is never assigned (padding).
	WordIndex map[string]int `json:"word_index"`

	// DocumentCount is the number of texts Fit has seen.
	DocumentCount int `json:"document_count"`

	countAt map[string]int // position of each word in WordCounts
}

// NewTokenizer returns an unfitted Tokenizer. If cfg sets OOVToken, the
// token already has index 1, as after Keras's fit_on_texts([]).
func NewTokenizer(cfg TokenizerConfig) *Tokenizer {
	if cfg.NumWords < 0 {
		panic(fmt.Sprintf("text: NewTokenizer: NumWords %d < 0", cfg.NumWords))
	}
	t := &Tokenizer{
		NumWords:  cfg.NumWords,
		Filters:   cfg.Filters,
		Lower:     !cfg.KeepCase,
		Split:     cfg.Split,
		OOVToken:  cfg.OOVToken,
		CJK:       cfg.CJK,
		WordIndex: map[string]int{},
	}
	if t.Filters == "" && !cfg.NoFilters {
		t.Filters = DefaultFilters
	}
	if cfg.NoFilters {
		t.Filters = ""
	}
	if t.Split == "" {
		t.Split = " "
	}
	if t.OOVToken != "" {
		t.WordIndex[t.OOVToken] = 1
	}
	return t
}

// Words splits s into words like Keras's text_to_word_sequence: lower-case
// (if Lower), replace every Filters character by Split, split on Split and
// drop empty strings; with CJK, every CJK ideograph is a word of its own.
func (t *Tokenizer) Words(s string) []string {
	return wordSequence(s, t.Filters, t.Lower, t.Split, t.CJK)
}

// Config returns the configuration t was made with (NumWords, filters,
// case, split, OOV token, CJK).
func (t *Tokenizer) Config() TokenizerConfig {
	return TokenizerConfig{NumWords: t.NumWords, Filters: t.Filters, NoFilters: t.Filters == "", KeepCase: !t.Lower, Split: t.Split, OOVToken: t.OOVToken, CJK: t.CJK}
}

// IsCJK reports whether r is in one of the CJK blocks BERT's
// BasicTokenizer splits into single characters (_is_chinese_char): the
// CJK Unified Ideographs and their extensions A to E, and the CJK
// Compatibility Ideographs and their supplement. Hiragana, katakana and
// Hangul are not among them, as in BERT.
func IsCJK(r rune) bool {
	return r >= 0x4E00 && r <= 0x9FFF ||
		r >= 0x3400 && r <= 0x4DBF ||
		r >= 0x20000 && r <= 0x2A6DF ||
		r >= 0x2A700 && r <= 0x2B73F ||
		r >= 0x2B740 && r <= 0x2B81F ||
		r >= 0x2B820 && r <= 0x2CEAF ||
		r >= 0xF900 && r <= 0xFAFF ||
		r >= 0x2F800 && r <= 0x2FA1F
}

// WordSequence is Keras's text_to_word_sequence with the settings of cfg.
func WordSequence(s string, cfg TokenizerConfig) []string {
	return NewTokenizer(cfg).Words(s)
}

// Fit updates the vocabulary with texts, like Keras's fit_on_texts: counts
// accumulate over calls and WordIndex is rebuilt from all counts so far.
func (t *Tokenizer) Fit(texts []string) {
	if t.Split == "" {
		panic("text: Tokenizer.Fit: empty Split; build Tokenizers with NewTokenizer")
	}
	if t.countAt == nil || len(t.countAt) != len(t.WordCounts) {
		t.countAt = make(map[string]int, len(t.WordCounts))
		for i, wc := range t.WordCounts {
			t.countAt[wc.Word] = i
		}
	}
	for _, s := range texts {
		t.DocumentCount++
		for _, w := range t.Words(s) {
			if i, ok := t.countAt[w]; ok {
				t.WordCounts[i].Count++
				continue
			}
			// Words are substrings of the lowered text; clone so the
			// vocabulary does not pin whole documents in memory.
			w = strings.Clone(w)
			t.countAt[w] = len(t.WordCounts)
			t.WordCounts = append(t.WordCounts, WordCount{Word: w, Count: 1})
		}
	}
	t.reindex()
}

// reindex rebuilds WordIndex as Keras does: a stable sort of the counts in
// decreasing order, the OOV token first. Indices are assigned in that order
// and a repeated key keeps its last index, like dict(zip(...)), so an OOV
// token that also occurs in the texts ends up with its frequency rank.
func (t *Tokenizer) reindex() {
	order := make([]int, len(t.WordCounts))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		return t.WordCounts[order[a]].Count > t.WordCounts[order[b]].Count
	})
	t.WordIndex = make(map[string]int, len(order)+1)
	next := 1
	if t.OOVToken != "" {
		t.WordIndex[t.OOVToken] = next
		next++
	}
	for _, i := range order {
		t.WordIndex[t.WordCounts[i].Word] = next
		next++
	}
}

// Sequences maps each text to its word indices, like Keras's
// texts_to_sequences: words beyond NumWords or unknown become the OOV index
// if OOVToken is set and are dropped otherwise.
func (t *Tokenizer) Sequences(texts []string) [][]int {
	out := make([][]int, len(texts))
	for i, s := range texts {
		out[i] = t.Sequence(s)
	}
	return out
}

// Sequence is Sequences for one text.
func (t *Tokenizer) Sequence(s string) []int {
	oov, hasOOV := 0, false
	if t.OOVToken != "" {
		oov, hasOOV = t.WordIndex[t.OOVToken]
	}
	words := t.Words(s)
	seq := make([]int, 0, len(words))
	for _, w := range words {
		i, known := t.WordIndex[w]
		switch {
		case known && (t.NumWords == 0 || i < t.NumWords):
			seq = append(seq, i)
		case hasOOV:
			seq = append(seq, oov)
		}
	}
	return seq
}

// VocabSize is one more than the largest index Sequences can return: the
// input size of an embedding layer fed with its output.
func (t *Tokenizer) VocabSize() int {
	largest := 0
	for _, i := range t.WordIndex {
		largest = max(largest, i)
	}
	size := largest + 1
	if t.NumWords > 0 {
		size = min(t.NumWords, size)
	}
	// Sequences maps words beyond NumWords to the OOV index, even when
	// that index is not below NumWords (as Keras does for num_words=1).
	if oov, ok := t.WordIndex[t.OOVToken]; ok && t.OOVToken != "" {
		size = max(size, oov+1)
	}
	return size
}

// UnmarshalJSON decodes a Tokenizer and checks that its state is one Fit
// could have produced, so a corrupt meta.json fails loudly.
func (t *Tokenizer) UnmarshalJSON(b []byte) error {
	type plain Tokenizer // no methods: avoids recursion
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("text: tokenizer: %w", err)
	}
	*t = Tokenizer(p)
	t.countAt = nil
	if err := t.validate(); err != nil {
		return fmt.Errorf("text: tokenizer: %w", err)
	}
	return nil
}

func (t *Tokenizer) validate() error {
	if t.Split == "" {
		return errors.New(`field "split": must not be empty`)
	}
	if t.NumWords < 0 {
		return fmt.Errorf(`field "num_words": %d, want >= 0`, t.NumWords)
	}
	if t.DocumentCount < 0 {
		return fmt.Errorf(`field "document_count": %d, want >= 0`, t.DocumentCount)
	}
	if !utf8.ValidString(t.Filters) {
		return errors.New(`field "filters": not valid UTF-8`)
	}
	seen := make(map[string]bool, len(t.WordCounts))
	for i, wc := range t.WordCounts {
		if wc.Count < 1 {
			return fmt.Errorf(`field "word_counts"[%d] (%q): count %d, want >= 1`, i, wc.Word, wc.Count)
		}
		if seen[wc.Word] {
			return fmt.Errorf(`field "word_counts"[%d]: word %q repeated`, i, wc.Word)
		}
		seen[wc.Word] = true
	}
	if t.WordIndex == nil {
		t.WordIndex = map[string]int{}
	}
	for w, i := range t.WordIndex {
		if i < 1 {
			return fmt.Errorf(`field "word_index"[%q]: index %d, want >= 1`, w, i)
		}
	}
	if t.OOVToken != "" {
		if _, ok := t.WordIndex[t.OOVToken]; !ok {
			return fmt.Errorf(`field "word_index": no entry for oov_token %q`, t.OOVToken)
		}
	}
	return nil
}

// wordSequence implements text_to_word_sequence, with CJK ideographs as
// words of their own when cjk is set. With a one-rune separator (the
// usual case) it splits in one pass without building the translated
// string; the result is the same.
func wordSequence(s, filters string, lower bool, split string, cjk bool) []string {
	if lower {
		s = lowerLikePython(s)
	}
	filtered := newRuneSet(filters)
	sep, size := utf8.DecodeRuneInString(split)
	if size == len(split) && sep != utf8.RuneError {
		var words []string
		start := -1
		for i, r := range s {
			switch {
			case r == sep || filtered.has(r):
				if start >= 0 {
					words = append(words, s[start:i])
					start = -1
				}
			case cjk && IsCJK(r):
				if start >= 0 {
					words = append(words, s[start:i])
					start = -1
				}
				words = append(words, s[i:i+utf8.RuneLen(r)])
			case start < 0:
				start = i
			}
		}
		if start >= 0 {
			words = append(words, s[start:])
		}
		return words
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case filtered.has(r):
			b.WriteString(split)
		case cjk && IsCJK(r):
			b.WriteString(split)
			b.WriteRune(r)
			b.WriteString(split)
		default:
			b.WriteRune(r)
		}
	}
	var words []string
	for _, w := range strings.Split(b.String(), split) {
		if w != "" {
			words = append(words, w)
		}
	}
	return words
}

// runeSet is a set of runes with a fast path for ASCII.
type runeSet struct {
	ascii [utf8.RuneSelf]bool
	other map[rune]bool
}

func newRuneSet(chars string) *runeSet {
	set := &runeSet{}
	for _, r := range chars {
		if r < utf8.RuneSelf {
			set.ascii[r] = true
			continue
		}
		if set.other == nil {
			set.other = map[rune]bool{}
		}
		set.other[r] = true
	}
	return set
}

func (s *runeSet) has(r rune) bool {
	if r >= 0 && r < utf8.RuneSelf {
		return s.ascii[r]
	}
	return s.other[r]
}
