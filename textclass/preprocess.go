package textclass

import (
	"fmt"

	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/text"
	"github.com/tapeml/tapeml/textdata"
)

// Fit builds the preprocessing of a corpus: the tokenizer learns the
// vocabulary of the training split (num_words most frequent words kept).
func Fit(c *textdata.TextCorpus, clean text.CleanOptions, numWords, maxLen int) (*text.Preprocess, error) {
	if len(c.Classes) != 2 {
		return nil, fmt.Errorf("text models here are binary classifiers, but the data has %d classes %v", len(c.Classes), c.Classes)
	}
	texts := make([]string, len(c.Train))
	for i, e := range c.Train {
		texts[i] = e.Text
	}
	positive := c.Positive
	if positive < 0 {
		positive = 1
	}
	return text.Fit(texts, c.Classes, positive, clean, numWords, maxLen)
}

// Dataset encodes labelled examples (from a corpus, already cleaned) as
// model inputs "ids" [MaxLen] with 0/1 targets, 1 meaning the positive class.
func Dataset(p *text.Preprocess, examples []textdata.TextExample) (*dataset.Tensors, error) {
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
