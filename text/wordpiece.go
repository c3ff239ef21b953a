package text

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Accents says whether WordPiece's basic tokenizer strips accents.
type Accents int

const (
	// AccentsDefault strips accents when lower-casing, as BERT does
	// (strip_accents None).
	AccentsDefault Accents = iota
	// AccentsStrip always strips them (strip_accents True).
	AccentsStrip
	// AccentsKeep never does (strip_accents False).
	AccentsKeep
)

// WordPieceConfig holds the options of BERT's tokenizer (Hugging Face's
// BertTokenizer arguments, or the BertNormalizer and WordPiece model of a
// tokenizer.json). Start from DefaultWordPieceConfig: its zero value
// disables cleaning and CJK splitting.
//
// Its JSON form (in a text model's preprocessing) names the fields as
// Hugging Face's tokenizer_config.json does where it has them.
type WordPieceConfig struct {
	Lowercase    bool    `json:"do_lower_case"`          // true for uncased models
	Accents      Accents `json:"strip_accents"`          // 0 default, 1 strip, 2 keep
	CleanText    bool    `json:"clean_text"`             // drop control characters, NUL and U+FFFD, whitespace to spaces
	ChineseChars bool    `json:"tokenize_chinese_chars"` // every CJK ideograph a token of its own
	// MaxCharsPerWord is max_input_chars_per_word: a longer word becomes
	// the unknown token; default 100.
	MaxCharsPerWord int `json:"max_input_chars_per_word,omitempty"`
	// The special tokens; defaults [UNK], [CLS], [SEP], [PAD], [MASK].
	// UNK, CLS, SEP and Pad must be in the vocabulary; Mask need not be.
	UNK  string `json:"unk_token,omitempty"`
	CLS  string `json:"cls_token,omitempty"`
	SEP  string `json:"sep_token,omitempty"`
	Pad  string `json:"pad_token,omitempty"`
	Mask string `json:"mask_token,omitempty"`
}

// DefaultWordPieceConfig is bert-base-uncased's tokenizer.
func DefaultWordPieceConfig() WordPieceConfig {
	return WordPieceConfig{Lowercase: true, CleanText: true, ChineseChars: true}
}

func (c *WordPieceConfig) defaults() {
	if c.MaxCharsPerWord == 0 {
		c.MaxCharsPerWord = 100
	}
	for _, s := range []struct {
		p *string
		v string
	}{{&c.UNK, "[UNK]"}, {&c.CLS, "[CLS]"}, {&c.SEP, "[SEP]"}, {&c.Pad, "[PAD]"}, {&c.Mask, "[MASK]"}} {
		if *s.p == "" {
			*s.p = s.v
		}
	}
}

// Limits on a WordPiece vocabulary, which is read from files: BERT's have
// 30 522 tokens (multilingual 119 547), none longer than a few dozen bytes.
const (
	MaxVocabTokens = 1 << 20 // tokens in a vocabulary
	MaxTokenBytes  = 1024    // bytes in one token
	// MaxVocabFileBytes bounds vocab.txt and tokenizer.json.
	MaxVocabFileBytes = 64 << 20
)

// WordPiece is BERT's tokenizer: the basic tokenizer (cleaning, CJK
// splitting, lower-casing and accent stripping, punctuation splitting)
// followed by greedy longest-match-first WordPiece with "##"
// continuations, exactly as Hugging Face's BertTokenizer (and Google's
// original tokenization.py) does it; see the package documentation for
// where it follows the Python tokenizer rather than the Rust one. It is
// safe for concurrent use.
type WordPiece struct {
	cfg                WordPieceConfig
	tokens             []string
	vocab              map[string]int
	special            []string // special tokens in the vocabulary, longest first: never split
	unk, cls, sep, pad int
}

// NewWordPiece makes a tokenizer over a vocabulary (token i has id i). It
// rejects an empty or oversized vocabulary, empty, overlong or duplicate
// tokens, and a vocabulary without the configured UNK, CLS, SEP or Pad
// token.
func NewWordPiece(tokens []string, cfg WordPieceConfig) (*WordPiece, error) {
	cfg.defaults()
	if cfg.MaxCharsPerWord < 1 {
		return nil, fmt.Errorf("wordpiece: max characters per word %d, expected at least 1", cfg.MaxCharsPerWord)
	}
	if len(tokens) == 0 || len(tokens) > MaxVocabTokens {
		return nil, fmt.Errorf("wordpiece: %d tokens in the vocabulary, expected 1 to %d", len(tokens), MaxVocabTokens)
	}
	w := &WordPiece{cfg: cfg, tokens: tokens, vocab: make(map[string]int, len(tokens))}
	for i, t := range tokens {
		if err := checkToken(t); err != nil {
			return nil, fmt.Errorf("wordpiece: token %d: %w", i, err)
		}
		if j, dup := w.vocab[t]; dup {
			return nil, fmt.Errorf("wordpiece: token %d %q repeats token %d", i, t, j)
		}
		w.vocab[t] = i
	}
	for _, s := range []struct {
		name string
		tok  string
		id   *int
	}{{"unknown", cfg.UNK, &w.unk}, {"classification", cfg.CLS, &w.cls}, {"separator", cfg.SEP, &w.sep}, {"padding", cfg.Pad, &w.pad}} {
		id, ok := w.vocab[s.tok]
		if !ok {
			return nil, fmt.Errorf("wordpiece: the %s token %q is not in the vocabulary", s.name, s.tok)
		}
		*s.id = id
	}
	for _, s := range []string{cfg.UNK, cfg.CLS, cfg.SEP, cfg.Pad, cfg.Mask} {
		if _, ok := w.vocab[s]; ok && !contains(w.special, s) {
			w.special = append(w.special, s)
		}
	}
	// Longest first, so that a special token that is a prefix of another
	// does not cut it.
	for i := 1; i < len(w.special); i++ {
		for j := i; j > 0 && len(w.special[j]) > len(w.special[j-1]); j-- {
			w.special[j], w.special[j-1] = w.special[j-1], w.special[j]
		}
	}
	return w, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// checkToken rejects a token that cannot be a vocabulary entry.
func checkToken(t string) error {
	switch {
	case t == "":
		return fmt.Errorf("empty")
	case len(t) > MaxTokenBytes:
		return fmt.Errorf("%d bytes, more than %d", len(t), MaxTokenBytes)
	case !utf8.ValidString(t):
		return fmt.Errorf("%q is not valid UTF-8", t)
	case strings.ContainsAny(t, "\n\r"):
		return fmt.Errorf("%q holds a line break", t)
	}
	return nil
}

// Config returns the tokenizer's configuration, defaults filled in.
func (w *WordPiece) Config() WordPieceConfig { return w.cfg }

// Tokens returns the vocabulary, token i having id i. It must not be
// modified.
func (w *WordPiece) Tokens() []string { return w.tokens }

// ID returns a token's id, and false when it is not in the vocabulary.
func (w *WordPiece) ID(token string) (int, bool) {
	id, ok := w.vocab[token]
	return id, ok
}

// Special ids.
func (w *WordPiece) UNKID() int { return w.unk }
func (w *WordPiece) CLSID() int { return w.cls }
func (w *WordPiece) SEPID() int { return w.sep }
func (w *WordPiece) PadID() int { return w.pad }

// Tokenize splits s into word pieces, as BertTokenizer.tokenize does:
// special tokens that appear in s verbatim stay whole, the rest goes
// through the basic tokenizer and WordPiece. A word with no
// decomposition into vocabulary pieces, or longer than MaxCharsPerWord
// characters, becomes the unknown token.
func (w *WordPiece) Tokenize(s string) []string {
	var out []string
	w.each(s, -1, func(tok string) bool {
		out = append(out, tok)
		return true
	})
	return out
}

// each calls f with every word piece of s in order, until f returns false
// or, when limit ≥ 0, limit pieces have been produced.
func (w *WordPiece) each(s string, limit int, f func(string) bool) {
	n := 0
	emit := func(t string) bool {
		if limit >= 0 && n >= limit {
			return false
		}
		n++
		return f(t)
	}
	for s != "" {
		at, special := w.nextSpecial(s)
		// The text between special tokens goes through the basic tokenizer
		// a few KiB at a time, cut after a space, tab or line break (which
		// separate words before and after cleaning), so that a caller who
		// wants only the first pieces of a huge text does not pay for all.
		for seg := s[:at]; seg != ""; {
			chunk := seg
			if len(seg) > wordPieceChunk {
				if cut := strings.IndexAny(seg[wordPieceChunk:], " \t\n\r"); cut >= 0 {
					chunk = seg[:wordPieceChunk+cut+1]
				}
			}
			seg = seg[len(chunk):]
			for _, word := range w.BasicTokens(chunk) {
				if !w.wordPieces(word, emit) {
					return
				}
			}
		}
		if special == "" {
			return
		}
		if !emit(special) {
			return
		}
		s = s[at+len(special):]
	}
}

// wordPieceChunk is the least text the basic tokenizer is given at once.
const wordPieceChunk = 4096

// nextSpecial finds the first special token in s: its byte offset and the
// token, or len(s) and "".
func (w *WordPiece) nextSpecial(s string) (int, string) {
	if len(w.special) == 0 {
		return len(s), ""
	}
	for i := 0; i < len(s); i++ {
		if !w.specialStart(s[i]) {
			continue
		}
		for _, t := range w.special {
			if strings.HasPrefix(s[i:], t) {
				return i, t
			}
		}
	}
	return len(s), ""
}

// specialStart reports whether some special token starts with byte c.
func (w *WordPiece) specialStart(c byte) bool {
	for _, t := range w.special {
		if t[0] == c {
			return true
		}
	}
	return false
}

// BasicTokens is BERT's BasicTokenizer: clean the text (control
// characters, NUL and U+FFFD removed, whitespace to spaces), surround CJK
// ideographs with spaces, split on whitespace, lower-case and strip
// accents as configured, and split every punctuation character off as a
// token of its own.
func (w *WordPiece) BasicTokens(s string) []string {
	if w.cfg.CleanText {
		s = cleanBERT(s)
	}
	if w.cfg.ChineseChars {
		s = spaceCJK(s)
	}
	strip := w.cfg.Accents == AccentsStrip || w.cfg.Lowercase && w.cfg.Accents == AccentsDefault
	var out []string
	for _, tok := range strings.FieldsFunc(s, unicode.IsSpace) {
		if w.cfg.Lowercase {
			tok = lowerLikePython(tok)
		}
		if strip {
			tok = stripAccents(tok)
		}
		out = splitPunct(out, tok)
	}
	return out
}

// cleanBERT is _clean_text: NUL, U+FFFD and control characters removed,
// whitespace characters replaced by a space.
func cleanBERT(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == 0 || r == utf8.RuneError || isControlBERT(r):
		case isWhitespaceBERT(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isWhitespaceBERT is _is_whitespace: space, tab, newline, carriage
// return, and category Zs.
func isWhitespaceBERT(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || unicode.Is(unicode.Zs, r)
}

// isControlBERT is _is_control: a category C character (Cc, Cf, Cs, Co,
// or unassigned Cn) other than tab, newline and carriage return.
func isControlBERT(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	return unicode.Is(unicode.C, r) || !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.C)
}

// isPunctBERT is _is_punctuation: every non-alphanumeric printable ASCII
// character (so $, +, <, ^, ` and | too), and category P.
func isPunctBERT(r rune) bool {
	if r >= 33 && r <= 47 || r >= 58 && r <= 64 || r >= 91 && r <= 96 || r >= 123 && r <= 126 {
		return true
	}
	return unicode.IsPunct(r)
}

// isCJK is _is_chinese_char: the CJK Unified Ideographs blocks and their
// extensions A–E and compatibility ideographs (not Hangul, Hiragana or
// Katakana, whose words are space-separated).
func isCJK(r rune) bool {
	return r >= 0x4E00 && r <= 0x9FFF || r >= 0x3400 && r <= 0x4DBF || r >= 0x20000 && r <= 0x2A6DF ||
		r >= 0x2A700 && r <= 0x2B73F || r >= 0x2B740 && r <= 0x2B81F || r >= 0x2B820 && r <= 0x2CEAF ||
		r >= 0xF900 && r <= 0xFAFF || r >= 0x2F800 && r <= 0x2FA1F
}

// spaceCJK is _tokenize_chinese_chars.
func spaceCJK(s string) string {
	var b strings.Builder
	for i, r := range s {
		if isCJK(r) {
			if b.Len() == 0 {
				b.Grow(len(s) + 16)
				b.WriteString(s[:i])
			}
			b.WriteByte(' ')
			b.WriteRune(r)
			b.WriteByte(' ')
		} else if b.Len() > 0 {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return s
	}
	return b.String()
}

// stripAccents is _run_strip_accents: NFD, then every nonspacing mark
// (category Mn) removed.
func stripAccents(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// splitPunct is _run_split_on_punc: appends tok's runs of
// non-punctuation and each punctuation character to out.
func splitPunct(out []string, tok string) []string {
	start := 0
	for i, r := range tok {
		if isPunctBERT(r) {
			if start < i {
				out = append(out, tok[start:i])
			}
			end := i + utf8.RuneLen(r)
			out = append(out, tok[i:end])
			start = end
		}
	}
	if start < len(tok) {
		out = append(out, tok[start:])
	}
	return out
}

// wordPieces emits word's greedy longest-match-first pieces (or the
// unknown token) and reports whether emit wanted more.
func (w *WordPiece) wordPieces(word string, emit func(string) bool) bool {
	chars := utf8.RuneCountInString(word)
	if chars > w.cfg.MaxCharsPerWord {
		return emit(w.cfg.UNK)
	}
	// Byte offsets of the rune boundaries.
	bounds := make([]int, 0, chars+1)
	for i := range word {
		bounds = append(bounds, i)
	}
	bounds = append(bounds, len(word))
	var pieces []string
	var buf []byte
	for start := 0; start < chars; {
		found := ""
		end := chars
		for ; end > start; end-- {
			sub := word[bounds[start]:bounds[end]]
			if start > 0 {
				buf = append(append(buf[:0], "##"...), sub...)
				sub = string(buf)
			}
			if _, ok := w.vocab[sub]; ok {
				found = sub
				break
			}
		}
		if found == "" {
			return emit(w.cfg.UNK)
		}
		pieces = append(pieces, found)
		start = end
	}
	for _, p := range pieces {
		if !emit(p) {
			return false
		}
	}
	return true
}

// Encoding is a tokenized input as BERT takes it.
type Encoding struct {
	IDs           []int // [CLS] pieces… [SEP] (pieces of a pair: [CLS] a [SEP] b [SEP])
	TypeIDs       []int // token type (segment) ids: 0 for the first text and its specials, 1 for the second's
	AttentionMask []int // 1 for every token, 0 for padding
}

// Encode is BertTokenizer(s, truncation=True, max_length=maxLen): [CLS],
// the pieces of s cut to maxLen−2, [SEP]; token types 0. It stops
// tokenizing once the pieces fill maxLen, so a huge text costs no more
// than its beginning. maxLen must be at least 2.
func (w *WordPiece) Encode(s string, maxLen int) (Encoding, error) {
	if maxLen < 2 {
		return Encoding{}, fmt.Errorf("wordpiece: maximum length %d leaves no room for [CLS] and [SEP]", maxLen)
	}
	ids := []int{w.cls}
	w.each(s, maxLen-2, func(t string) bool {
		ids = append(ids, w.idOf(t))
		return true
	})
	ids = append(ids, w.sep)
	return Encoding{IDs: ids, TypeIDs: make([]int, len(ids)), AttentionMask: ones(len(ids))}, nil
}

// EncodePair is BertTokenizer(a, b, truncation=True, max_length=maxLen):
// [CLS] a [SEP] b [SEP] with token types 0 for [CLS] a [SEP] and 1 for
// b [SEP], truncated "longest first" (a piece at a time from the end of
// the longer of the two, of b when they are as long). maxLen must be at
// least 3.
func (w *WordPiece) EncodePair(a, b string, maxLen int) (Encoding, error) {
	if maxLen < 3 {
		return Encoding{}, fmt.Errorf("wordpiece: maximum length %d leaves no room for [CLS] and two [SEP]", maxLen)
	}
	pa, pb := w.Tokenize(a), w.Tokenize(b)
	for len(pa)+len(pb) > maxLen-3 {
		if len(pa) > len(pb) {
			pa = pa[:len(pa)-1]
		} else {
			pb = pb[:len(pb)-1]
		}
	}
	e := Encoding{IDs: []int{w.cls}}
	for _, t := range pa {
		e.IDs = append(e.IDs, w.idOf(t))
	}
	e.IDs = append(e.IDs, w.sep)
	e.TypeIDs = make([]int, len(e.IDs), len(e.IDs)+len(pb)+1)
	for _, t := range pb {
		e.IDs = append(e.IDs, w.idOf(t))
		e.TypeIDs = append(e.TypeIDs, 1)
	}
	e.IDs = append(e.IDs, w.sep)
	e.TypeIDs = append(e.TypeIDs, 1)
	e.AttentionMask = ones(len(e.IDs))
	return e, nil
}

func (w *WordPiece) idOf(t string) int {
	if id, ok := w.vocab[t]; ok {
		return id
	}
	return w.unk
}

func ones(n int) []int {
	v := make([]int, n)
	for i := range v {
		v[i] = 1
	}
	return v
}

// Pad returns e padded after its tokens to length n with padID (token
// type 0, attention mask 0), as padding="max_length" does; an encoding
// longer than n is returned as it is.
func (e Encoding) Pad(n, padID int) Encoding {
	for len(e.IDs) < n {
		e.IDs = append(e.IDs, padID)
		e.TypeIDs = append(e.TypeIDs, 0)
		e.AttentionMask = append(e.AttentionMask, 0)
	}
	return e
}
