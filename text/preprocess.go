package text

import "fmt"

// Preprocess is everything needed to turn a raw text into a model input:
// how it is cleaned, the tokenizer fitted on the training split, and how
// its ids are padded. It is JSON and lives in text models' checkpoints
// (meta.json's preprocessing), so prediction reads a text exactly as
// training did.
type Preprocess struct {
	Clean     CleanOptions `json:"clean"`     // header and HTML handling of raw input texts
	Tokenizer *Tokenizer   `json:"tokenizer"` // fitted on the training split only
	Pad       PadConfig    `json:"pad"`       // maxlen, 'pre' padding and truncation by default
	Classes   []string     `json:"classes"`   // label names; index = label
	Positive  int          `json:"positive"`  // index of the positive class
}

// Fit builds the preprocessing of a training split of already-cleaned
// texts: the tokenizer learns their vocabulary (the numWords−1 most
// frequent words kept).
func Fit(texts []string, classes []string, positive int, clean CleanOptions, numWords, maxLen int) (*Preprocess, error) {
	if maxLen < 1 {
		return nil, fmt.Errorf("maxlen must be at least 1, got %d", maxLen)
	}
	tok := NewTokenizer(TokenizerConfig{NumWords: numWords})
	tok.Fit(texts)
	return &Preprocess{Clean: clean, Tokenizer: tok, Pad: PadConfig{MaxLen: maxLen}, Classes: classes, Positive: positive}, nil
}

// MaxLen is the length of every encoded text.
func (p *Preprocess) MaxLen() int { return p.Pad.MaxLen }

// IDs tokenizes and pads already-cleaned texts: [len(texts)·MaxLen] ids.
func (p *Preprocess) IDs(texts []string) ([]float32, error) {
	ids, _, err := PadFlat[float32](p.Tokenizer.Sequences(texts), p.Pad)
	return ids, err
}
