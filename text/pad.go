package text

import "fmt"

// PadConfig configures PadFlat. The zero value gives Keras's
// pad_sequences defaults: maxlen=None, padding="pre", truncating="pre",
// value=0.
type PadConfig struct {
	// MaxLen is the length of every output row. Default 0: the length of
	// the longest sequence.
	MaxLen int

	// Padding says where short sequences are padded: "pre" (before) or
	// "post" (after). Default "": "pre".
	Padding string

	// Truncating says where long sequences lose elements: "pre" (keep the
	// last MaxLen), "post" (keep the first MaxLen) or "head-tail" (keep
	// the first MaxLen/4 and the last MaxLen−MaxLen/4, as Sun et al. 2019
	// found best for long texts: their 128 + 382 of 510). Default "":
	// "pre".
	Truncating string

	// Value fills the padding. Default 0, the index no word has.
	Value int
}

// HeadTail is the Truncating mode that keeps a long text's head and tail.
const HeadTail = "head-tail"

// TruncatingModes lists the values PadConfig.Truncating takes ("" is
// "pre").
var TruncatingModes = []string{"pre", "post", HeadTail}

// resolve fills defaults and checks cfg, returning whether padding
// happens at the front and how sequences are cut. Keras only complains
// about a bad mode when it meets a sequence that needs it; this checks up
// front instead.
func (cfg PadConfig) resolve(seqs [][]int) (maxLen int, padPre bool, trunc string, err error) {
	switch cfg.Padding {
	case "", "pre":
		padPre = true
	case "post":
	default:
		return 0, false, "", fmt.Errorf("text: PadConfig.Padding is %q, want \"pre\" or \"post\"", cfg.Padding)
	}
	switch trunc = cfg.Truncating; trunc {
	case "":
		trunc = "pre"
	case "pre", "post", HeadTail:
	default:
		return 0, false, "", fmt.Errorf("text: PadConfig.Truncating is %q, want \"pre\", \"post\" or %q", cfg.Truncating, HeadTail)
	}
	if cfg.MaxLen < 0 {
		return 0, false, "", fmt.Errorf("text: PadConfig.MaxLen is %d, want >= 0 (0 = longest sequence)", cfg.MaxLen)
	}
	maxLen = cfg.MaxLen
	if maxLen == 0 {
		for _, s := range seqs {
			maxLen = max(maxLen, len(s))
		}
	}
	return maxLen, padPre, trunc, nil
}

// Truncate cuts s to at most maxLen elements as mode (a Truncating value)
// says, returning the kept part (a new slice for head-tail) and how many
// elements were cut.
func Truncate(s []int, maxLen int, mode string) (kept []int, cut int) {
	if len(s) <= maxLen {
		return s, 0
	}
	cut = len(s) - maxLen
	switch mode {
	case "post":
		return s[:maxLen], cut
	case HeadTail:
		head := maxLen / 4
		return append(append(make([]int, 0, maxLen), s[:head]...), s[len(s)-(maxLen-head):]...), cut
	}
	return s[len(s)-maxLen:], cut
}

// Number is an element type PadFlat can produce.
type Number interface {
	~int | ~int32 | ~int64 | ~float32 | ~float64
}

// PadFlat pads and truncates seqs to rows of equal length, like Keras's
// pad_sequences, into one row-major buffer of length len(seqs)*maxLen,
// ready to back a [len(seqs), maxLen] input tensor.
func PadFlat[T Number](seqs [][]int, cfg PadConfig) (data []T, maxLen int, err error) {
	maxLen, padPre, trunc, err := cfg.resolve(seqs)
	if err != nil {
		return nil, 0, err
	}
	data = make([]T, len(seqs)*maxLen)
	fillPadded(data, seqs, maxLen, padPre, trunc, T(cfg.Value))
	return data, maxLen, nil
}

func fillPadded[T Number](dst []T, seqs [][]int, maxLen int, padPre bool, trunc string, value T) {
	for i, s := range seqs {
		row := dst[i*maxLen : (i+1)*maxLen]
		s, _ = Truncate(s, maxLen, trunc)
		pad := maxLen - len(s)
		at := 0
		if padPre {
			at = pad
		}
		for j := range row {
			row[j] = value
		}
		for j, v := range s {
			row[at+j] = T(v)
		}
	}
}
