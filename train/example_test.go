package train_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/kinds"
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
	cfg := textcnn.DefaultConfig()
	pre, err := textclass.Fit(corpus, text.CleanOptions{}, text.TokenizerConfig{NumWords: cfg.NumWords, CJK: true},
		text.PadConfig{MaxLen: cfg.MaxLen, Truncating: "post"}, corpus.Positive)
	if err != nil {
		log.Fatal(err)
	}
	trainSet, _ := textclass.Dataset(pre, corpus.Train)
	valSet, _ := textclass.Dataset(pre, corpus.Val)

	model, _ := textcnn.New(cfg)
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

// Train a kind as `tapeml train textcnn` does: on the built-in sample,
// with the kind's reference settings, into a run folder; the best epoch's
// checkpoint is tested and loads with tapeml.Load. (Compiled, not run: it
// trains for a while.)
func ExampleRun() {
	k, err := kinds.Lookup(textcnn.Kind)
	if err != nil {
		log.Fatal(err)
	}
	spec, err := train.NewSpec(k) // the kind's defaults and reference training
	if err != nil {
		log.Fatal(err)
	}
	spec.Training.Epochs = 5
	spec.Set["epochs"] = true
	spec.Out = "runs/spam"
	spec.Progress = os.Stdout
	res, err := train.Run(context.Background(), *spec)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("best checkpoint:", res.Checkpoint)
}
