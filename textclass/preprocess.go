package textclass

import (
	"fmt"

	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/text"
	"github.com/tapeml/tapeml/textdata"
)

// Preprocess is everything needed to turn raw text into a model input. It is
// JSON and lives in checkpoints' meta.json.
type Preprocess struct {
	Clean     textdata.TextOptions `json:"clean"`     // header and HTML handling of raw input texts
	Tokenizer *text.Tokenizer      `json:"tokenizer"` // fitted on the training split only
	Pad       text.PadConfig       `json:"pad"`       // maxlen, 'pre' padding and truncation by default
	Classes   []string             `json:"classes"`   // label names; index = label
	Positive  int                  `json:"positive"`  // index of the positive class
}

// Fit builds the preprocessing of a corpus: the tokenizer learns the
// vocabulary of the training split (num_words most frequent words kept).
func Fit(c *textdata.TextCorpus, clean textdata.TextOptions, numWords, maxLen int) (*Preprocess, error) {
	if len(c.Classes) != 2 {
		return nil, fmt.Errorf("text models here are binary classifiers, but the data has %d classes %v", len(c.Classes), c.Classes)
	}
	if maxLen < 1 {
		return nil, fmt.Errorf("maxlen must be at least 1, got %d", maxLen)
	}
	tok := text.NewTokenizer(text.TokenizerConfig{NumWords: numWords})
	texts := make([]string, len(c.Train))
	for i, e := range c.Train {
		texts[i] = e.Text
	}
	tok.Fit(texts)
	positive := c.Positive
	if positive < 0 {
		positive = 1
	}
	return &Preprocess{Clean: clean, Tokenizer: tok, Pad: text.PadConfig{MaxLen: maxLen}, Classes: c.Classes, Positive: positive}, nil
}

// MaxLen is the length of every encoded text.
func (p *Preprocess) MaxLen() int { return p.Pad.MaxLen }

// IDs tokenizes and pads already-cleaned texts: [len(texts)·MaxLen] ids.
func (p *Preprocess) IDs(texts []string) ([]float32, error) {
	ids, _, err := text.PadFlat[float32](p.Tokenizer.Sequences(texts), p.Pad)
	return ids, err
}

// Dataset encodes labelled examples (from a corpus, already cleaned) as
// model inputs "ids" [MaxLen] with 0/1 targets, 1 meaning the positive class.
func (p *Preprocess) Dataset(examples []textdata.TextExample) (*dataset.Tensors, error) {
	texts := make([]string, len(examples))
	labels := make([]float32, len(examples))
	for i, e := range examples {
		texts[i] = e.Text
		if e.Label == p.Positive {
			labels[i] = 1
		}
	}
	ids, err := p.IDs(texts)
	if err != nil {
		return nil, err
	}
	return dataset.NewTensors([][]float32{ids}, [][]int{{p.MaxLen()}}, labels, nil)
}

// RawDataset cleans raw texts (as a user types them) and encodes them with
// unknown labels, for prediction. It also returns the ids fed to the model.
func (p *Preprocess) RawDataset(raw []string) (*dataset.Tensors, [][]int, error) {
	texts := make([]string, len(raw))
	for i, s := range raw {
		texts[i] = p.Clean.Clean(s)
	}
	ids, err := p.IDs(texts)
	if err != nil {
		return nil, nil, err
	}
	ds, err := dataset.NewTensors([][]float32{ids}, [][]int{{p.MaxLen()}}, make([]float32, len(raw)), nil)
	if err != nil {
		return nil, nil, err
	}
	rows := make([][]int, len(raw))
	for i := range rows {
		rows[i] = make([]int, p.MaxLen())
		for j := range rows[i] {
			rows[i][j] = int(ids[i*p.MaxLen()+j])
		}
	}
	return ds, rows, nil
}
