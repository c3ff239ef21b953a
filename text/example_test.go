package text_test

import (
	"fmt"

	"github.com/tapeml/tapeml/text"
)

func Example() {
	tok := text.NewTokenizer(text.TokenizerConfig{NumWords: 6, OOVToken: "<OOV>"})
	tok.Fit([]string{"Free money, click now!", "Meeting moved to Monday.", "Click now for free money"})
	seqs := tok.Sequences([]string{"free money for you", "see you Monday"})
	padded, maxLen, err := text.PadFlat[int](seqs, text.PadConfig{MaxLen: 4})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.WordIndex["free"], tok.WordIndex["<OOV>"], tok.VocabSize())
	fmt.Println(seqs)
	fmt.Println(padded, maxLen)
	// Output:
	// 2 1 6
	// [[2 3 1 1] [1 1 1]]
	// [2 3 1 1 0 1 1 1] 4
}
