package train_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/models/textcnn"
	"github.com/tapeml/tapeml/samples"
	"github.com/tapeml/tapeml/text"
	"github.com/tapeml/tapeml/textclass"
	"github.com/tapeml/tapeml/textdata"
	"github.com/tapeml/tapeml/train"
)

// Training the reference text classifier on the built-in sample, as the
// README shows. (Compiled, not run: it trains for a while.)
func Example() {
	corpus, err := samples.SpamAssassin(textdata.TextOptions{})
	if err != nil {
		log.Fatal(err)
	}
	pre, err := textclass.Fit(corpus, text.CleanOptions{}, 10000, 100)
	if err != nil {
		log.Fatal(err)
	}
	trainSet, _ := textclass.Dataset(pre, corpus.Train)
	valSet, _ := textclass.Dataset(pre, corpus.Val)

	model, _ := textcnn.New(textcnn.DefaultConfig())
	t, err := train.New(model, graph.NewParams(tensor.Float32, 1), train.Config{Epochs: 10})
	if err != nil {
		log.Fatal(err)
	}
	t.Progress = os.Stdout
	t.Saver = &train.Saver{Dir: checkpoint.Dir{Root: "runs/spam"}, Info: train.RunInfo{Kind: textcnn.Kind, Preprocessing: pre}}
	if err := t.Fit(context.Background(), trainSet, valSet); err != nil {
		log.Fatal(err)
	}
	res, _ := t.Evaluate(context.Background(), valSet)
	acc, _ := res.Get("accuracy")
	fmt.Printf("validation accuracy %.3f\n", acc)
}
