package text

import "fmt"

// Preprocess is everything needed to turn a raw text into a model input:
// how it is cleaned, the tokenizer fitted on the training split, and how
// its ids are padded. It is JSON and lives in text models' checkpoints
// (meta.json's preprocessing), so prediction reads a text exactly as
// training did.
type Preprocess struct {
	Clean     CleanOptions `json:"clean"`     // header and HTML handling of raw input texts
	Tokenizer *Tokenizer   `json:"tokenizer"` // fitted on the training split only; nil with WordPiece
	// WordPiece, instead of Tokenizer, reads texts as BERT does: [CLS]
	// pieces… [SEP], padded after (FitWordPiece).
	WordPiece *WordPieceVocab `json:"wordpiece,omitempty"`
	Pad       PadConfig       `json:"pad"`     // maxlen, padding and truncation
	Classes   []string        `json:"classes"` // label names; index = label
	// Positive is the index of the class a binary model's logit scores;
	// −1 for more classes.
	Positive int `json:"positive"`
	// Prior is each class's share of the training split, in class order:
	// the answer for a text with no known token, which carries no
	// evidence. Absent in checkpoints written before it existed, whose
	// models answer such a text with their own output.
	Prior []float64 `json:"prior,omitempty"`
}

// Fit builds the preprocessing of a training split of already-cleaned
// texts: the tokenizer (tok's configuration) learns their vocabulary (the
// tok.NumWords−1 most frequent words kept), labels give the class prior.
func Fit(texts []string, labels []int, classes []string, positive int, clean CleanOptions, tok TokenizerConfig, pad PadConfig) (*Preprocess, error) {
	prior, err := classPrior(texts, labels, classes, pad.MaxLen)
	if err != nil {
		return nil, err
	}
	t := NewTokenizer(tok)
	t.Fit(texts)
	return &Preprocess{Clean: clean, Tokenizer: t, Pad: pad, Classes: classes, Positive: positive, Prior: prior}, nil
}

// WithClasses returns a copy of p for other classes — a model started from
// p's (its tokenizer kept) and trained on data of these classes — with
// positive as the binary model's positive class (−1 for more classes) and
// the class prior of the training split texts, labels.
func (p *Preprocess) WithClasses(texts []string, labels []int, classes []string, positive int) (*Preprocess, error) {
	prior, err := classPrior(texts, labels, classes, p.Pad.MaxLen)
	if err != nil {
		return nil, err
	}
	q := *p
	q.Classes, q.Positive, q.Prior = classes, positive, prior
	return &q, nil
}

// classPrior checks a training split and returns each class's share of it.
func classPrior(texts []string, labels []int, classes []string, maxLen int) ([]float64, error) {
	if maxLen < 1 {
		return nil, fmt.Errorf("maxlen must be at least 1, got %d", maxLen)
	}
	if len(labels) != len(texts) {
		return nil, fmt.Errorf("%d labels for %d texts", len(labels), len(texts))
	}
	if len(texts) == 0 {
		return nil, fmt.Errorf("no training texts")
	}
	prior := make([]float64, len(classes))
	for i, l := range labels {
		if l < 0 || l >= len(classes) {
			return nil, fmt.Errorf("text %d: label %d is not an index of classes %q", i, l, classes)
		}
		prior[l]++
	}
	for i := range prior {
		prior[i] /= float64(len(labels))
	}
	return prior, nil
}

// MaxLen is the length of every encoded text.
func (p *Preprocess) MaxLen() int { return p.Pad.MaxLen }

// IDs tokenizes and pads already-cleaned texts: [len(texts)·MaxLen] ids.
// With WordPiece each row is [CLS] pieces… [SEP] [PAD]….
func (p *Preprocess) IDs(texts []string) ([]float32, error) {
	if p.WordPiece != nil {
		return p.wordPieceIDs(texts)
	}
	ids, _, err := PadFlat[float32](p.Tokenizer.Sequences(texts), p.Pad)
	return ids, err
}

// Known counts the known tokens of a row of ids: the ids that are neither
// padding nor the out-of-vocabulary token (nor, with WordPiece, [CLS] or
// [SEP]). A row without one carries no
// evidence about its class.
func (p *Preprocess) Known(row []float32) int {
	if p.WordPiece != nil {
		return p.wordPieceKnown(row)
	}
	oov := -1
	if t := p.Tokenizer; t.OOVToken != "" {
		if i, ok := t.WordIndex[t.OOVToken]; ok {
			oov = i
		}
	}
	n := 0
	for _, id := range row {
		if int(id) != p.Pad.Value && int(id) != oov {
			n++
		}
	}
	return n
}
