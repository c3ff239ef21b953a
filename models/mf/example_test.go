package mf_test

import (
	"context"
	"fmt"
	"log"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/models/mf"
	"github.com/tapeml/tapeml/recsys"
	"github.com/tapeml/tapeml/tools/synth"
	"github.com/tapeml/tapeml/train"
)

// Train matrix factorization with the generic trainer on synthetic
// ratings, then serve the weights as a Recommender.
func Example() {
	cfg := synth.Builtin()
	cfg.Users, cfg.Items, cfg.Ratings = 200, 300, 10000
	data, err := synth.Synthesize(cfg) // or recsys.ReadRatings("ratings.csv", recsys.ReadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	trainRatings, testRatings, err := recsys.RandomSplit(data.Ratings, 0.2, 1)
	if err != nil {
		log.Fatal(err)
	}
	model, err := mf.New(mf.FitConfig(data, trainRatings)) // 64 factors, reg 0.1
	if err != nil {
		log.Fatal(err)
	}
	t, err := train.New(model, graph.NewParams(tensor.Float32, 1), mf.DefaultTraining()) // Adam 0.01, batch 1024, 10 epochs
	if err != nil {
		log.Fatal(err)
	}
	if err := t.Fit(context.Background(), mf.Dataset(trainRatings), mf.Dataset(testRatings)); err != nil {
		log.Fatal(err)
	}
	for _, p := range t.Program.Params().List() {
		fmt.Println(p.Name, p.Shape())
	}
	m, err := recsys.NewMatrix(trainRatings, data.NumUsers(), data.NumItems())
	if err != nil {
		log.Fatal(err)
	}
	rec, err := mf.NewRecommender(checkpoint.Weights(t.Program.Params()), model.Config, m)
	if err != nil {
		log.Fatal(err)
	}
	report, err := recsys.Evaluate(rec, m, testRatings, recsys.EvalConfig{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("test RMSE below 0.9:", report.RMSE < 0.9)
	// Output:
	// user_factors.weight [200 64]
	// item_factors.weight [300 64]
	// user_bias.weight [200 1]
	// item_bias.weight [300 1]
	// global_bias [1]
	// test RMSE below 0.9: true
}
