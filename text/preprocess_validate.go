package text

import (
	"fmt"
	"slices"
)

// Validate checks preprocessing read from a checkpoint against the model
// it feeds, a binary classifier with an embedding of numWords rows over
// maxLen tokens, so that a damaged or mismatched meta.json fails with an
// error naming the field instead of a panic (a class index out of range,
// an id past the embedding) or wrong metrics. Errors name the JSON field.
func (p *Preprocess) Validate(numWords, maxLen int) error {
	switch {
	case p.Tokenizer == nil:
		return fmt.Errorf("preprocessing: no tokenizer")
	case len(p.Classes) != 2:
		return fmt.Errorf("preprocessing: classes %q: a binary text model needs 2 class names", p.Classes)
	case p.Classes[0] == p.Classes[1]:
		return fmt.Errorf("preprocessing: classes %q: the names must differ", p.Classes)
	case p.Positive < 0 || p.Positive >= len(p.Classes):
		return fmt.Errorf("preprocessing: positive %d is not an index of classes %q (want 0 or 1)", p.Positive, p.Classes)
	case p.Pad.MaxLen != maxLen:
		return fmt.Errorf("preprocessing: pad maxlen %d, but the model reads %d tokens", p.Pad.MaxLen, maxLen)
	case !slices.Contains([]string{"", "pre", "post"}, p.Pad.Padding):
		return fmt.Errorf("preprocessing: pad padding %q, want \"pre\" or \"post\"", p.Pad.Padding)
	case !slices.Contains([]string{"", "pre", "post"}, p.Pad.Truncating):
		return fmt.Errorf("preprocessing: pad truncating %q, want \"pre\" or \"post\"", p.Pad.Truncating)
	}
	if v := p.Tokenizer.VocabSize(); v > numWords {
		return fmt.Errorf("preprocessing: the tokenizer gives ids up to %d, but the model embeds only %d (num_words)", v-1, numWords)
	}
	if v := p.Pad.Value; v < 0 || v >= numWords {
		return fmt.Errorf("preprocessing: pad value %d is not an id the model embeds (0 to %d, num_words %d)", v, numWords-1, numWords)
	}
	return nil
}
