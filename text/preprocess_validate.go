package text

import (
	"fmt"
	"math"
	"slices"
)

// Validate checks preprocessing read from a checkpoint against the model
// it feeds, a classifier of classes classes with an embedding of numWords
// rows over maxLen tokens, so that a damaged or mismatched meta.json fails
// with an error naming the field instead of a panic (a class index out of
// range, an id past the embedding) or wrong metrics. Errors name the JSON
// field.
func (p *Preprocess) Validate(classes, numWords, maxLen int) error {
	switch {
	case p.Tokenizer == nil && p.WordPiece == nil:
		return fmt.Errorf("preprocessing: no tokenizer")
	case p.Tokenizer != nil && p.WordPiece != nil:
		return fmt.Errorf("preprocessing: both a tokenizer and a wordpiece vocabulary: want one")
	case len(p.Classes) != classes:
		return fmt.Errorf("preprocessing: classes %q: the model has %d classes", p.Classes, classes)
	case len(p.Classes) == 2 && (p.Positive < 0 || p.Positive > 1):
		return fmt.Errorf("preprocessing: positive %d is not an index of classes %q (want 0 or 1)", p.Positive, p.Classes)
	case p.Pad.MaxLen != maxLen:
		return fmt.Errorf("preprocessing: pad maxlen %d, but the model reads %d tokens", p.Pad.MaxLen, maxLen)
	case !slices.Contains([]string{"", "pre", "post"}, p.Pad.Padding):
		return fmt.Errorf("preprocessing: pad padding %q, want \"pre\" or \"post\"", p.Pad.Padding)
	case p.Pad.Truncating != "" && !slices.Contains(TruncatingModes, p.Pad.Truncating):
		return fmt.Errorf("preprocessing: pad truncating %q, want one of %q", p.Pad.Truncating, TruncatingModes)
	case p.Prior != nil && len(p.Prior) != len(p.Classes):
		return fmt.Errorf("preprocessing: prior has %d values for %d classes", len(p.Prior), len(p.Classes))
	}
	seen := map[string]bool{}
	for _, c := range p.Classes {
		if seen[c] {
			return fmt.Errorf("preprocessing: classes %q: the names must differ", p.Classes)
		}
		seen[c] = true
	}
	var sum float64
	for i, v := range p.Prior {
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("preprocessing: prior[%d] is %v, want a probability", i, v)
		}
		sum += v
	}
	if p.Prior != nil && math.Abs(sum-1) > 1e-6 {
		return fmt.Errorf("preprocessing: prior sums to %v, want 1", sum)
	}
	if w := p.WordPiece; w != nil {
		switch {
		case len(w.Tokens()) > numWords:
			return fmt.Errorf("preprocessing: the wordpiece vocabulary has %d tokens, but the model embeds only %d (vocab_size)", len(w.Tokens()), numWords)
		case p.Pad.Padding != "post" || p.Pad.Truncating != "post":
			return fmt.Errorf("preprocessing: pad padding %q, truncating %q: wordpiece rows are [CLS] pieces… [SEP], cut and padded after (\"post\")", p.Pad.Padding, p.Pad.Truncating)
		case maxLen < 2:
			return fmt.Errorf("preprocessing: pad maxlen %d leaves no room for [CLS] and [SEP]", maxLen)
		case p.Pad.Value != w.PadID():
			return fmt.Errorf("preprocessing: pad value %d, but the wordpiece vocabulary's %s is id %d", p.Pad.Value, w.Config().Pad, w.PadID())
		}
	} else if v := p.Tokenizer.VocabSize(); v > numWords {
		return fmt.Errorf("preprocessing: the tokenizer gives ids up to %d, but the model embeds only %d (num_words)", v-1, numWords)
	}
	if v := p.Pad.Value; v < 0 || v >= numWords {
		return fmt.Errorf("preprocessing: pad value %d is not an id the model embeds (0 to %d, num_words %d)", v, numWords-1, numWords)
	}
	if p.Pad.Value != 0 { // the embedding's padding row, zero and untrained, is row 0
		return fmt.Errorf("preprocessing: pad value %d: text models pad with id 0", p.Pad.Value)
	}
	return nil
}
