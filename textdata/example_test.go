package textdata_test

import (
	"fmt"

	"github.com/tapeml/tapeml/textdata"
)

func Example() {
	corpus, err := textdata.LoadText("testdata/imdb", textdata.TextOptions{Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(corpus.Classes, "positive:", corpus.Classes[corpus.Positive])
	fmt.Println("train", len(corpus.Train), "val", len(corpus.Val), "test", len(corpus.Test))
	fmt.Println("test counts per class:", corpus.Counts(corpus.Test))
	// Output:
	// [neg pos] positive: pos
	// train 8 val 0 test 4
	// test counts per class: [2 2]
}
