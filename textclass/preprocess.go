package textclass

import (
	"fmt"

	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/text"
	"github.com/tapeml/tapeml/textdata"
)

// Fit builds the preprocessing of a corpus: the tokenizer (configured by
// tok) learns the vocabulary of the training split, the class prior is the
// training split's; positive is the index of a binary corpus's positive
// class (−1 for more classes).
func Fit(c *textdata.TextCorpus, clean text.CleanOptions, tok text.TokenizerConfig, pad text.PadConfig, positive int) (*text.Preprocess, error) {
	texts, labels, positive, err := trainSplit(c, positive)
	if err != nil {
		return nil, err
	}
	return text.Fit(texts, labels, c.Classes, positive, clean, tok, pad)
}

// FitWordPiece builds the WordPiece preprocessing of a corpus
// (text.FitWordPiece): the vocabulary is learned from the training split,
// texts become rows of maxLen ids; positive as in Fit.
func FitWordPiece(c *textdata.TextCorpus, clean text.CleanOptions, learn text.LearnConfig, maxLen, positive int) (*text.Preprocess, error) {
	texts, labels, positive, err := trainSplit(c, positive)
	if err != nil {
		return nil, err
	}
	return text.FitWordPiece(texts, labels, c.Classes, positive, clean, learn, maxLen)
}

// Relabel is the preprocessing pre (a checkpoint's, its tokenizer kept)
// for the corpus's classes, with the corpus's training split's prior
// (text.Preprocess.WithClasses); positive as in Fit.
func Relabel(pre *text.Preprocess, c *textdata.TextCorpus, positive int) (*text.Preprocess, error) {
	texts, labels, positive, err := trainSplit(c, positive)
	if err != nil {
		return nil, err
	}
	return pre.WithClasses(texts, labels, c.Classes, positive)
}

// trainSplit checks the classes and the positive class and returns the
// training texts and labels.
func trainSplit(c *textdata.TextCorpus, positive int) ([]string, []int, int, error) {
	if len(c.Classes) < 2 {
		return nil, nil, 0, fmt.Errorf("a classifier needs at least 2 classes, the data has %d %v", len(c.Classes), c.Classes)
	}
	if len(c.Classes) == 2 && positive != 0 && positive != 1 {
		return nil, nil, 0, fmt.Errorf("positive class %d of classes %v: want 0 or 1", positive, c.Classes)
	}
	if len(c.Classes) > 2 {
		positive = -1
	}
	texts := make([]string, len(c.Train))
	labels := make([]int, len(c.Train))
	for i, e := range c.Train {
		texts[i], labels[i] = e.Text, e.Label
	}
	return texts, labels, positive, nil
}

// Dataset encodes labelled examples (from a corpus, already cleaned) as
// model inputs "ids" [MaxLen] with their targets: 0/1 for two classes (1
// meaning the positive class), the class index for more.
func Dataset(p *text.Preprocess, examples []textdata.TextExample) (*dataset.Tensors, error) {
	texts := make([]string, len(examples))
	labels := make([]float32, len(examples))
	binary := len(p.Classes) == 2
	for i, e := range examples {
		texts[i] = e.Text
		switch {
		case !binary:
			labels[i] = float32(e.Label)
		case e.Label == p.Positive:
			labels[i] = 1
		}
	}
	ids, err := p.IDs(texts)
	if err != nil {
		return nil, err
	}
	return dataset.NewTensors([][]float32{ids}, [][]int{{p.MaxLen()}}, labels, nil)
}
