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
	// last MaxLen) or "post" (keep the first MaxLen). Default "": "pre".
	Truncating string

	// Value fills the padding. Default 0, the index no word has.
	Value int
}

// resolve fills defaults and checks cfg, returning whether padding and
// truncation happen at the front. Keras only complains about a bad mode
// when it meets a sequence that needs it; this checks up front instead.
func (cfg PadConfig) resolve(seqs [][]int) (maxLen int, padPre, truncPre bool, err error) {
	padPre, err = padMode("Padding", cfg.Padding)
	if err != nil {
		return 0, false, false, err
	}
	truncPre, err = padMode("Truncating", cfg.Truncating)
	if err != nil {
		return 0, false, false, err
	}
	if cfg.MaxLen < 0 {
		return 0, false, false, fmt.Errorf("text: PadConfig.MaxLen is %d, want >= 0 (0 = longest sequence)", cfg.MaxLen)
	}
	maxLen = cfg.MaxLen
	if maxLen == 0 {
		for _, s := range seqs {
			maxLen = max(maxLen, len(s))
		}
	}
	return maxLen, padPre, truncPre, nil
}

func padMode(field, mode string) (pre bool, err error) {
	switch mode {
	case "", "pre":
		return true, nil
	case "post":
		return false, nil
	}
	return false, fmt.Errorf("text: PadConfig.%s is %q, want \"pre\" or \"post\"", field, mode)
}

// Number is an element type PadFlat can produce.
type Number interface {
	~int | ~int32 | ~int64 | ~float32 | ~float64
}

// PadFlat pads and truncates seqs to rows of equal length, like Keras's
// pad_sequences, into one row-major buffer of length len(seqs)*maxLen,
// ready to back a [len(seqs), maxLen] input tensor.
func PadFlat[T Number](seqs [][]int, cfg PadConfig) (data []T, maxLen int, err error) {
	maxLen, padPre, truncPre, err := cfg.resolve(seqs)
	if err != nil {
		return nil, 0, err
	}
	data = make([]T, len(seqs)*maxLen)
	fillPadded(data, seqs, maxLen, padPre, truncPre, T(cfg.Value))
	return data, maxLen, nil
}

func fillPadded[T Number](dst []T, seqs [][]int, maxLen int, padPre, truncPre bool, value T) {
	for i, s := range seqs {
		row := dst[i*maxLen : (i+1)*maxLen]
		if len(s) > maxLen {
			if truncPre {
				s = s[len(s)-maxLen:]
			} else {
				s = s[:maxLen]
			}
		}
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
