package text

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/tapeml/tapeml/internal/safeio"
)

// ReadVocab reads a BERT vocab.txt: one token per line, the line number
// (from 0) its id, as Hugging Face's load_vocab reads it (only the "\n"
// is removed). Errors name the file and line: a file over
// MaxVocabFileBytes or not regular, more than MaxVocabTokens lines, an
// empty, overlong or invalid token, a carriage return (a file with
// Windows line endings, whose tokens would never match), a duplicate.
func ReadVocab(path string) ([]string, error) {
	b, err := safeio.ReadFile(path, MaxVocabFileBytes)
	if err != nil {
		return nil, err
	}
	tokens, err := ParseVocab(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return tokens, nil
}

// ParseVocab is ReadVocab on the file's contents.
func ParseVocab(b []byte) ([]string, error) {
	if len(b) > MaxVocabFileBytes {
		return nil, fmt.Errorf("vocabulary of %d bytes, more than %d", len(b), MaxVocabFileBytes)
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	if len(b) == 0 {
		return nil, fmt.Errorf("no tokens")
	}
	lines := bytes.Count(b, []byte("\n")) + 1
	if lines > MaxVocabTokens {
		return nil, fmt.Errorf("%d tokens, more than %d", lines, MaxVocabTokens)
	}
	tokens := make([]string, 0, lines)
	seen := make(map[string]int, lines)
	for i, line := range strings.Split(string(b), "\n") {
		if err := checkToken(line); err != nil {
			return nil, fmt.Errorf("line %d: token %w", i+1, err)
		}
		if j, dup := seen[line]; dup {
			return nil, fmt.Errorf("line %d: token %q repeats line %d", i+1, line, j+1)
		}
		seen[line] = i
		tokens = append(tokens, line)
	}
	return tokens, nil
}

// ReadTokenizerJSON reads the WordPiece parts of a Hugging Face
// tokenizer.json: the model (type WordPiece, its vocab, unk_token,
// continuing_subword_prefix "##" and max_input_chars_per_word) and the
// normalizer (BertNormalizer: clean_text, handle_chinese_chars,
// strip_accents, lowercase), with a BertPreTokenizer. It returns the
// vocabulary in id order and the configuration. Anything else — another
// model or normalizer, a prefix other than "##", ids that are not 0…n−1
// each once, a duplicate token, oversized input — is an error naming the
// file and the field.
func ReadTokenizerJSON(path string) ([]string, WordPieceConfig, error) {
	b, err := safeio.ReadFile(path, MaxVocabFileBytes)
	if err != nil {
		return nil, WordPieceConfig{}, err
	}
	tokens, cfg, err := ParseTokenizerJSON(b)
	if err != nil {
		return nil, cfg, fmt.Errorf("%s: %w", path, err)
	}
	return tokens, cfg, nil
}

// ParseTokenizerJSON is ReadTokenizerJSON on the file's contents.
func ParseTokenizerJSON(b []byte) ([]string, WordPieceConfig, error) {
	var doc struct {
		Normalizer *struct {
			Type               string `json:"type"`
			CleanText          *bool  `json:"clean_text"`
			HandleChineseChars *bool  `json:"handle_chinese_chars"`
			StripAccents       *bool  `json:"strip_accents"`
			Lowercase          *bool  `json:"lowercase"`
		} `json:"normalizer"`
		PreTokenizer *struct {
			Type string `json:"type"`
		} `json:"pre_tokenizer"`
		Model struct {
			Type                 string          `json:"type"`
			UNK                  string          `json:"unk_token"`
			Prefix               *string         `json:"continuing_subword_prefix"`
			MaxInputCharsPerWord *int            `json:"max_input_chars_per_word"`
			Vocab                json.RawMessage `json:"vocab"`
		} `json:"model"`
	}
	cfg := DefaultWordPieceConfig()
	if len(b) > MaxVocabFileBytes {
		return nil, cfg, fmt.Errorf("%d bytes, more than %d", len(b), MaxVocabFileBytes)
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, cfg, fmt.Errorf("not a tokenizer.json: %w", err)
	}
	m := doc.Model
	switch {
	case m.Type != "WordPiece":
		return nil, cfg, fmt.Errorf("model.type %q: only WordPiece is supported", m.Type)
	case m.Prefix != nil && *m.Prefix != "##":
		return nil, cfg, fmt.Errorf("model.continuing_subword_prefix %q: only \"##\" is supported", *m.Prefix)
	case doc.PreTokenizer == nil || doc.PreTokenizer.Type != "BertPreTokenizer":
		return nil, cfg, fmt.Errorf("pre_tokenizer: only BertPreTokenizer is supported")
	case doc.Normalizer == nil || doc.Normalizer.Type != "BertNormalizer":
		return nil, cfg, fmt.Errorf("normalizer: only BertNormalizer is supported")
	}
	if m.UNK != "" {
		cfg.UNK = m.UNK
	}
	if m.MaxInputCharsPerWord != nil {
		if *m.MaxInputCharsPerWord < 1 || *m.MaxInputCharsPerWord > 1<<20 {
			return nil, cfg, fmt.Errorf("model.max_input_chars_per_word %d: expected 1 to %d", *m.MaxInputCharsPerWord, 1<<20)
		}
		cfg.MaxCharsPerWord = *m.MaxInputCharsPerWord
	}
	n := doc.Normalizer
	if n.CleanText != nil {
		cfg.CleanText = *n.CleanText
	}
	if n.HandleChineseChars != nil {
		cfg.ChineseChars = *n.HandleChineseChars
	}
	if n.Lowercase != nil {
		cfg.Lowercase = *n.Lowercase
	}
	if n.StripAccents != nil {
		cfg.Accents = AccentsKeep
		if *n.StripAccents {
			cfg.Accents = AccentsStrip
		}
	}
	tokens, err := parseVocabObject(m.Vocab)
	if err != nil {
		return nil, cfg, fmt.Errorf("model.vocab: %w", err)
	}
	return tokens, cfg, nil
}

// parseVocabObject reads {"token": id, …} token by token, so that a
// duplicate key (which a map would silently keep once) is an error, and
// returns the tokens in id order.
func parseVocabObject(raw json.RawMessage) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("expected an object of token ids")
	}
	ids := map[string]int{}
	var order []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		tok := t.(string)
		var id int
		if err := dec.Decode(&id); err != nil {
			return nil, fmt.Errorf("token %q: the id is not an integer", tok)
		}
		if _, dup := ids[tok]; dup {
			return nil, fmt.Errorf("token %q appears twice", tok)
		}
		if len(ids) >= MaxVocabTokens {
			return nil, fmt.Errorf("more than %d tokens", MaxVocabTokens)
		}
		if err := checkToken(tok); err != nil {
			return nil, fmt.Errorf("token %d: %w", len(ids), err)
		}
		ids[tok] = id
		order = append(order, tok)
	}
	if _, err := dec.Token(); err != nil && err != io.EOF {
		return nil, err
	}
	tokens := make([]string, len(ids))
	for _, tok := range order {
		id := ids[tok]
		if id < 0 || id >= len(tokens) || tokens[id] != "" {
			return nil, fmt.Errorf("token %q has id %d: the ids must be 0…%d, each once", tok, id, len(tokens)-1)
		}
		tokens[id] = tok
	}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("no tokens")
	}
	return tokens, nil
}
