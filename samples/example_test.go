package samples_test

import (
	"fmt"

	"github.com/tapeml/tapeml/samples"
	"github.com/tapeml/tapeml/textdata"
)

func ExampleSpamAssassin() {
	corpus, err := samples.SpamAssassin(textdata.TextOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(corpus.Classes, "positive:", corpus.Classes[corpus.Positive])
	fmt.Println("train", len(corpus.Train), "val", len(corpus.Val), "test", len(corpus.Test))
	// Output:
	// [ham spam] positive: spam
	// train 1600 val 200 test 200
}
