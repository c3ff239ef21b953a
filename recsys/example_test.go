package recsys_test

import (
	"fmt"
	"log"

	"github.com/tapeml/tapeml/recsys"
	"github.com/tapeml/tapeml/tools/synth"
)

// Fit user–user kNN on synthetic ratings, evaluate it on a held-out 20%,
// and recommend items to one user by raw id.
func Example() {
	cfg := synth.Builtin()
	cfg.Users, cfg.Items, cfg.Ratings = 200, 300, 10000
	data, err := synth.Synthesize(cfg) // or recsys.ReadRatings("ratings.csv", recsys.ReadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	train, test, err := recsys.RandomSplit(data.Ratings, 0.2, 1)
	if err != nil {
		log.Fatal(err)
	}
	m, err := recsys.NewMatrix(train, data.NumUsers(), data.NumItems())
	if err != nil {
		log.Fatal(err)
	}
	knn, err := recsys.FitKNN(m, data.Scale, recsys.KNNConfig{}) // user-based Pearson, k = 40
	if err != nil {
		log.Fatal(err)
	}
	pop := recsys.FitPopularity(m, data.Scale)
	byKNN, err := recsys.Evaluate(knn, m, test, recsys.EvalConfig{K: 10})
	if err != nil {
		log.Fatal(err)
	}
	byPop, err := recsys.Evaluate(pop, m, test, recsys.EvalConfig{K: 10})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("kNN test RMSE below 0.95: %v; NDCG@10 above popularity's: %v\n", byKNN.RMSE < 0.95, byKNN.NDCG > byPop.NDCG)
	user, ok := data.Users.Index("7")
	if !ok {
		log.Fatal("no user 7")
	}
	for _, s := range knn.Recommend(user, 3, recsys.ExcludeSeen) {
		fmt.Printf("item %s: predicted %.1f stars\n", data.Items.Raw(s.Index), knn.Predict(user, s.Index))
	}
	// Output:
	// kNN test RMSE below 0.95: true; NDCG@10 above popularity's: true
	// item 214: predicted 3.7 stars
	// item 215: predicted 3.5 stars
	// item 10: predicted 3.6 stars
}
