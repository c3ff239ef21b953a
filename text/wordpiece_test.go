package text

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var specialTokens = []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}

// withSpecials is the specials not already in tokens, then tokens.
func withSpecials(tokens []string) []string {
	var out []string
	for _, s := range specialTokens {
		if !slices.Contains(tokens, s) {
			out = append(out, s)
		}
	}
	return append(out, tokens...)
}

func accents(strip *bool) Accents {
	switch {
	case strip == nil:
		return AccentsDefault
	case *strip:
		return AccentsStrip
	}
	return AccentsKeep
}

// TestWordPieceHuggingFaceVectors runs the cases of Hugging Face's own BERT
// tokenizer tests, copied as data into testdata/wordpiece/hf_vectors.json
// (its "source" names the file and commit).
func TestWordPieceHuggingFaceVectors(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "wordpiece", "hf_vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		VocabFull      []string `json:"vocab_full"`
		VocabWordPiece []string `json:"vocab_wordpiece"`
		Cases          []struct {
			Test, Kind, Vocab, Text string
			Lowercase               bool
			StripAccents            *bool `json:"strip_accents"`
			ChineseChars            *bool `json:"chinese_chars"`
			Tokens                  []string
			IDs                     []int
		}
		Chars map[string]map[string][]string
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) < 20 {
		t.Fatalf("%d cases", len(g.Cases))
	}
	for i, c := range g.Cases {
		cfg := DefaultWordPieceConfig()
		cfg.Lowercase, cfg.Accents = c.Lowercase, accents(c.StripAccents)
		if c.ChineseChars != nil {
			cfg.ChineseChars = *c.ChineseChars
		}
		vocab := g.VocabFull
		switch c.Vocab {
		case "wordpiece":
			vocab = g.VocabWordPiece
		case "expected":
			vocab = withSpecials(c.Tokens)
		}
		if c.Vocab == "wordpiece" { // no [PAD] in that vocabulary: the WordpieceTokenizer alone needs none
			vocab = append(slices.Clone(vocab), "[PAD]")
		}
		w, err := NewWordPiece(vocab, cfg)
		if err != nil {
			t.Fatalf("case %d (%s): %v", i, c.Test, err)
		}
		var got []string
		switch c.Kind {
		case "basic":
			got = w.BasicTokens(c.Text)
		case "basic_never_split":
			got = w.Tokenize(c.Text) // the vocabulary has every word but the specials, so pieces are words
			for j, tok := range got {
				if tok == "[UNK]" && j < len(c.Tokens) && c.Tokens[j] != "[UNK]" {
					got = w.BasicTokens(c.Text) // compare the basic tokens, with [UNK] kept whole
					break
				}
			}
			if len(got) > 0 && got[len(got)-1] != "[UNK]" {
				t.Errorf("case %d (%s): the special token was split: %q", i, c.Test, got)
			}
			got = append(w.BasicTokens(strings.TrimSuffix(c.Text, "[UNK]")), "[UNK]")
		case "wordpiece":
			got = nil
			for _, word := range strings.Fields(c.Text) {
				w.wordPieces(word, func(p string) bool { got = append(got, p); return true })
			}
		case "tokenize":
			got = w.Tokenize(c.Text)
		case "encode":
			e, err := w.Encode(c.Text, 512)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range e.IDs {
				got = append(got, w.Tokens()[id])
			}
		default:
			t.Fatalf("case %d: kind %q", i, c.Kind)
		}
		if !slices.Equal(got, c.Tokens) && !(len(got) == 0 && len(c.Tokens) == 0) {
			t.Errorf("case %d (%s) %q: %q, Hugging Face %q", i, c.Test, c.Text, got, c.Tokens)
		}
		if c.IDs != nil {
			var ids []int
			for _, tok := range got {
				id, _ := w.ID(tok)
				ids = append(ids, id)
			}
			if !slices.Equal(ids, c.IDs) {
				t.Errorf("case %d (%s): ids %v, Hugging Face %v", i, c.Test, ids, c.IDs)
			}
		}
	}
	for name, f := range map[string]func(rune) bool{
		"test_is_whitespace":  isWhitespaceBERT,
		"test_is_control":     isControlBERT,
		"test_is_punctuation": isPunctBERT,
	} {
		for want, chars := range map[bool][]string{true: g.Chars[name]["true"], false: g.Chars[name]["false"]} {
			if len(chars) == 0 {
				t.Fatalf("%s: no characters", name)
			}
			for _, c := range chars {
				if got := f([]rune(c)[0]); got != want {
					t.Errorf("%s(%q) = %v, Hugging Face %v", name, c, got, want)
				}
			}
		}
	}
}

// TestWordPiecePythonVectors checks texts with accents, Greek final sigma,
// İ, CJK, Japanese kana, Hangul, punctuation of every kind, control and
// format characters, Unicode whitespace, words over 100 characters, emoji
// and special tokens, cased and uncased, with and without accent
// stripping, against Python's own Unicode handling
// (testdata/wordpiece/wordpiece_golden.py over testdata/wordpiece/vocab.txt).
func TestWordPiecePythonVectors(t *testing.T) {
	tokens, err := ReadVocab(filepath.Join("testdata", "wordpiece", "vocab.txt"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join("testdata", "wordpiece", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Cases []struct {
			Text          string
			Lowercase     bool
			StripAccents  bool `json:"strip_accents"`
			Basic, Tokens []string
		}
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) < 40 {
		t.Fatalf("%d cases", len(g.Cases))
	}
	for i, c := range g.Cases {
		cfg := DefaultWordPieceConfig()
		cfg.Lowercase, cfg.Accents = c.Lowercase, AccentsKeep
		if c.StripAccents {
			cfg.Accents = AccentsStrip
		}
		w, err := NewWordPiece(tokens, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := w.BasicTokens(c.Text); !slices.Equal(got, c.Basic) && len(got)+len(c.Basic) > 0 {
			t.Errorf("case %d %q (lower %v, strip %v): basic %q, Python %q", i, c.Text, c.Lowercase, c.StripAccents, got, c.Basic)
		}
		if got := w.Tokenize(c.Text); !slices.Equal(got, c.Tokens) && len(got)+len(c.Tokens) > 0 {
			t.Errorf("case %d %q (lower %v, strip %v): tokens %q, Python %q", i, c.Text, c.Lowercase, c.StripAccents, got, c.Tokens)
		}
	}
}

func TestWordPieceEncode(t *testing.T) {
	w, err := NewWordPiece(withSpecials([]string{"un", "##want", "##ed", "runn", "##ing", ","}), DefaultWordPieceConfig())
	if err != nil {
		t.Fatal(err)
	}
	id := func(tok string) int { i, _ := w.ID(tok); return i }
	e, err := w.Encode("UNwanted,running", 5)
	if err != nil {
		t.Fatal(err)
	}
	want := []int{id("[CLS]"), id("un"), id("##want"), id("##ed"), id("[SEP]")}
	if !slices.Equal(e.IDs, want) || !slices.Equal(e.TypeIDs, []int{0, 0, 0, 0, 0}) || !slices.Equal(e.AttentionMask, []int{1, 1, 1, 1, 1}) {
		t.Errorf("Encode truncated: %+v, want ids %v", e, want)
	}
	p := e.Pad(7, w.PadID())
	if !slices.Equal(p.IDs[5:], []int{w.PadID(), w.PadID()}) || !slices.Equal(p.AttentionMask, []int{1, 1, 1, 1, 1, 0, 0}) || len(p.TypeIDs) != 7 {
		t.Errorf("Pad: %+v", p)
	}
	// Pairs: longest first, ties from the second text.
	e, err = w.EncodePair("unwanted running", "running,", 8)
	if err != nil {
		t.Fatal(err)
	}
	want = []int{id("[CLS]"), id("un"), id("##want"), id("##ed"), id("[SEP]"), id("runn"), id("##ing"), id("[SEP]")}
	if !slices.Equal(e.IDs, want) || !slices.Equal(e.TypeIDs, []int{0, 0, 0, 0, 0, 1, 1, 1}) {
		t.Errorf("EncodePair: %+v, want ids %v", e, want)
	}
	if _, err := w.Encode("x", 1); err == nil {
		t.Error("Encode accepted a maximum length of 1")
	}
	// A huge text costs no more than its beginning: Encode stops early.
	big := strings.Repeat("unwanted ", 1<<18)
	if e, err := w.Encode(big, 16); err != nil || len(e.IDs) != 16 {
		t.Errorf("Encode of a huge text: %d ids, %v", len(e.IDs), err)
	}
}

func TestWordPieceRejectsBadVocabularies(t *testing.T) {
	long := strings.Repeat("x", MaxTokenBytes+1)
	for _, c := range []struct {
		name, vocab, want string
	}{
		{"duplicate", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nab\nab\n", "line 6: token \"ab\" repeats line 5"},
		{"empty line", "[PAD]\n[UNK]\n\n[CLS]\n[SEP]\n", "line 3: token empty"},
		{"crlf", "[PAD]\r\n[UNK]\r\n", "line 1: token \"[PAD]\\r\" holds a line break"},
		{"long", "[PAD]\n" + long + "\n", "line 2: token 1025 bytes"},
		{"invalid utf-8", "[PAD]\n\xff\xfe\n", "line 2: token \"\\xff\\xfe\" is not valid UTF-8"},
		{"empty", "", "no tokens"},
	} {
		_, err := ParseVocab([]byte(c.vocab))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one with %q", c.name, err, c.want)
		}
	}
	if _, err := NewWordPiece([]string{"[PAD]", "[CLS]", "[SEP]", "a"}, DefaultWordPieceConfig()); err == nil || !strings.Contains(err.Error(), `unknown token "[UNK]"`) {
		t.Errorf("a vocabulary without [UNK]: %v", err)
	}
	// A vocabulary file of more than MaxVocabFileBytes is refused unread.
	path := filepath.Join(t.TempDir(), "vocab.txt")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxVocabFileBytes + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := ReadVocab(path); err == nil {
		t.Error("ReadVocab read a file over the limit")
	}
}

func TestReadTokenizerJSON(t *testing.T) {
	doc := func(normalizer, model string) []byte {
		return []byte(fmt.Sprintf(`{"version": "1.0", "added_tokens": [], "normalizer": %s,
 "pre_tokenizer": {"type": "BertPreTokenizer"}, "model": %s}`, normalizer, model))
	}
	bert := `{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": false}`
	tokens, cfg, err := ParseTokenizerJSON(doc(bert, `{"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
 "max_input_chars_per_word": 50, "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "Hello": 4, "##s": 5}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tokens, []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "Hello", "##s"}) || cfg.Lowercase || cfg.MaxCharsPerWord != 50 || cfg.Accents != AccentsDefault || !cfg.ChineseChars {
		t.Errorf("tokens %q, config %+v", tokens, cfg)
	}
	w, err := NewWordPiece(tokens, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Tokenize("Hellos hello"); !slices.Equal(got, []string{"Hello", "##s", "[UNK]"}) {
		t.Errorf("cased tokenizer from tokenizer.json: %q", got)
	}
	for _, c := range []struct{ name, normalizer, model, want string }{
		{"duplicate token", bert, `{"type": "WordPiece", "vocab": {"[UNK]": 0, "a": 1, "a": 2}}`, `token "a" appears twice`},
		{"id gap", bert, `{"type": "WordPiece", "vocab": {"[UNK]": 0, "a": 2}}`, `token "a" has id 2`},
		{"repeated id", bert, `{"type": "WordPiece", "vocab": {"[UNK]": 0, "a": 0}}`, `token "a" has id 0`},
		{"bpe", bert, `{"type": "BPE", "vocab": {}}`, `model.type "BPE"`},
		{"prefix", bert, `{"type": "WordPiece", "continuing_subword_prefix": "@@", "vocab": {"a": 0}}`, `continuing_subword_prefix "@@"`},
		{"normalizer", `{"type": "NFC"}`, `{"type": "WordPiece", "vocab": {"a": 0}}`, `normalizer`},
		{"not an id", bert, `{"type": "WordPiece", "vocab": {"a": "x"}}`, `token "a": the id is not an integer`},
		{"empty token", bert, `{"type": "WordPiece", "vocab": {"": 0}}`, `token 0: empty`},
	} {
		_, _, err := ParseTokenizerJSON(doc(c.normalizer, c.model))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one with %q", c.name, err, c.want)
		}
	}
}

func TestLearnWordPiece(t *testing.T) {
	texts := []string{
		"the lowest low lower", "newer wider newest widest", "low lower lowest",
		"Widest NEWEST newer", "the the the", "我爱北京", "naïve café",
	}
	vocab, err := LearnWordPiece(texts, LearnConfig{VocabSize: 45, MinFrequency: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(vocab) != 45 || !slices.Equal(vocab[:5], []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) {
		t.Fatalf("vocabulary of %d: %q", len(vocab), vocab)
	}
	all, _ := LearnWordPiece(texts, LearnConfig{VocabSize: 1000, MinFrequency: 1})
	if len(all) >= 1000 || len(all) <= 45 {
		t.Errorf("with every pair merged, %d tokens", len(all))
	}
	again, _ := LearnWordPiece(texts, LearnConfig{VocabSize: 45, MinFrequency: 1})
	if !slices.Equal(vocab, again) {
		t.Error("the learned vocabulary is not deterministic")
	}
	w, err := NewWordPiece(vocab, DefaultWordPieceConfig())
	if err != nil {
		t.Fatal(err)
	}
	// Every training word decomposes into learned pieces: no [UNK].
	for _, s := range texts {
		if got := w.Tokenize(s); slices.Contains(got, "[UNK]") {
			t.Errorf("%q: %q", s, got)
		}
	}
	// Frequent words end up whole; every word once all pairs are merged.
	for _, word := range []string{"low", "lowest"} {
		if !slices.Contains(vocab, word) {
			t.Errorf("%q is not in the learned vocabulary %q", word, vocab)
		}
	}
	for _, word := range []string{"the", "newest", "naive", "cafe"} {
		if !slices.Contains(all, word) {
			t.Errorf("%q is not in the full learned vocabulary %q", word, all)
		}
	}
	// A vocabulary smaller than the alphabet keeps the most frequent characters.
	small, err := LearnWordPiece(texts, LearnConfig{VocabSize: 8})
	if err != nil || len(small) != 8 {
		t.Fatalf("small vocabulary %q, %v", small, err)
	}
	if _, err := LearnWordPiece(texts, LearnConfig{VocabSize: 5}); err == nil {
		t.Error("a vocabulary size of 5 (the special tokens alone) was accepted")
	}
}

// Merges go by pair frequency: a frequent pair of common parts before a
// rare pair whose parts occur only together (which the likelihood score
// count(ab)/(count(a)·count(b)) would take first), and a pair seen once
// never: a long number seen once must not grow one digit per merge and
// fill the vocabulary, as it did under the likelihood score on e-mail.
func TestLearnWordPieceFrequency(t *testing.T) {
	var texts []string
	for i := 0; i < 10; i++ {
		texts = append(texts, "ab ab ac ad ae af")
	}
	texts = append(texts, "xy xy") // x and y occur only together
	l := newLearner()
	basic := &WordPiece{cfg: DefaultWordPieceConfig()}
	basic.cfg.defaults()
	counts := map[string]int{}
	for _, s := range texts {
		for _, w := range basic.BasicTokens(s) {
			counts[w]++
		}
	}
	words := make([]string, 0, len(counts))
	for w := range counts {
		words = append(words, w)
	}
	slices.Sort(words)
	for _, w := range words {
		l.addWord(w, counts[w])
	}
	if got, _ := l.mergeBest(2); got != "ab" {
		t.Errorf("first merge %q, want \"ab\" (20 occurrences against xy's 2)", got)
	}

	mail := []string{
		"the offer is free, click the link to claim the free offer",
		"ref 58497961769767314848646746179676174646846469479767264416194676",
		"the meeting notes are in the list archive",
		"call 1-800-555-0199 for the free quote",
		"re: the list archive moved to the new server",
	}
	vocab, err := LearnWordPiece(mail, LearnConfig{VocabSize: 200})
	if err != nil {
		t.Fatal(err)
	}
	for _, word := range []string{"the", "free", "offer", "list", "archive"} {
		if !slices.Contains(vocab, word) {
			t.Errorf("frequent word %q is not in the learned vocabulary %q", word, vocab)
		}
	}
	for _, tok := range vocab {
		if strings.HasPrefix(tok, "5849") {
			t.Errorf("a piece of the number seen once, %q, was learned", tok)
		}
	}
	w, err := NewWordPiece(vocab, DefaultWordPieceConfig())
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Tokenize(mail[1]); slices.Contains(got, "[UNK]") {
		t.Errorf("the number is not spelled by its digits: %q", got)
	}
}
