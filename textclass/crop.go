package textclass

import (
	"math"
	"math/rand/v2"

	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/train"
)

// Crop says how a training set is cropped (Crops).
type Crop struct {
	P       float64 `json:"p"`        // share of texts cropped each epoch; 0 for none
	MaxSpan int     `json:"max_span"` // longest span, in tokens
}

// MaxCropSpan bounds Crop.MaxSpan.
const MaxCropSpan = 1 << 16

// Validate checks the share and the span.
func (c Crop) Validate() error {
	switch {
	case !(c.P >= 0 && c.P <= 1) || math.IsNaN(c.P):
		return train.Invalidf("%s %v: want a share in [0, 1]", train.Field("crop"), c.P)
	case c.P > 0 && (c.MaxSpan < 1 || c.MaxSpan > MaxCropSpan):
		return train.Invalidf("%s %d: want 1 to %d tokens", train.Field("crop_span"), c.MaxSpan, MaxCropSpan)
	}
	return nil
}

// Crops is a training set of padded token rows that, each epoch, replaces
// a share of its texts by a random span of themselves: with probability
// P, a text becomes its tokens s … s+ℓ−1, with ℓ uniform in [1,
// min(MaxSpan, length)] and s uniform, padded on the row's side (pre or
// post) again. A model trained on long documents alone learns from their
// proportions — a word's weight in a mean, a window among hundreds — and
// reads a short text as an odd document; spans of its training texts
// show it short texts, and that a span without telling words is worth
// the class prior. The spans are a function of (Seed, epoch, example), so
// a resumed run sees the same ones (train.EpochAware).
type Crops struct {
	*dataset.Tensors
	Crop
	PadPre bool // rows are padded before the text
	// Bracketed rows keep their first and last token ([CLS] and [SEP])
	// around the span.
	Bracketed bool
	Seed      uint64
	epoch     int
}

// SetEpoch selects the epoch whose spans Gather draws.
func (d *Crops) SetEpoch(epoch int) { d.epoch = epoch }

// Gather copies the examples at idx, cropping as the epoch draws.
func (d *Crops) Gather(idx []int, inputs [][]float32, targets []float32) error {
	if err := d.Tensors.Gather(idx, inputs, targets); err != nil {
		return err
	}
	L := d.InputShapes[0][0]
	var tokens []float32
	for r, i := range idx {
		rng := rand.New(rand.NewPCG(d.Seed^0x6a09e667f3bcc908, uint64(d.epoch)<<32|uint64(i)))
		if rng.Float64() >= d.P {
			continue
		}
		row := inputs[0][r*L : (r+1)*L]
		tokens = tokens[:0]
		for _, id := range row {
			if id != 0 {
				tokens = append(tokens, id)
			}
		}
		var first, last []float32
		if d.Bracketed {
			if len(tokens) < 4 {
				continue
			}
			first, last = tokens[:1], tokens[len(tokens)-1:]
			tokens = tokens[1 : len(tokens)-1]
		}
		if len(tokens) < 2 {
			continue
		}
		span := 1 + rng.IntN(min(d.MaxSpan, len(tokens)))
		start := rng.IntN(len(tokens) - span + 1)
		clear(row)
		at := 0
		if d.PadPre {
			at = L - span - len(first) - len(last)
		}
		at += copy(row[at:], first)
		at += copy(row[at:], tokens[start:start+span])
		copy(row[at:], last)
	}
	return nil
}
