// Command bprcurve prints BPR's ranking on the test split every few
// epochs of one fit, beside the popularity baseline: the learning curves
// docs/scale.md quotes to choose BPR's defaults for a wide catalogue.
//
//	go run ./tools/mkratings -preset 25m -scale 0.1 -out r.csv
//	go run ./tools/bprcurve -data r.csv -lr 0.05 -candidates 20 -epochs 40 -every 10
//
// The ratings ≥ -threshold become interactions, split 80/20 at random
// (seed 1), and NDCG@10 and recall@10 rank a seeded 2,000 test users
// (-rank-users), leaving out their training interactions. It peeks at
// the test split on purpose, to draw the curve; tapeml train recsys picks
// the epoch on a validation tenth of the training interactions instead.
// -cpuprofile writes a CPU profile of the fit.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime/pprof"
	"time"

	"github.com/tapeml/tapeml/recsys"
)

func main() {
	path := flag.String("data", "", "ratings CSV")
	threshold := flag.Float64("threshold", recsys.DefaultRelevance, "ratings of at least this become interactions")
	cand := flag.Int("candidates", 20, "BPRConfig.Candidates")
	negs := flag.String("negatives", recsys.NegUniform, "BPRConfig.Negatives")
	lr := flag.Float64("lr", 0.02, "BPRConfig.LR")
	reg := flag.Float64("reg", 0, "BPRConfig.Reg (0: default)")
	epochs := flag.Int("epochs", 30, "epochs")
	every := flag.Int("every", 5, "evaluate every this many epochs")
	prof := flag.String("cpuprofile", "", "write a CPU profile of the fit here")
	average := flag.Float64("average", 0, "BPRConfig.Average")
	rankUsers := flag.Int("rank-users", 2000, "rank this many seeded test users (tapeml train recsys ranks 10,000)")
	flag.Parse()
	log.SetFlags(0)
	if *path == "" || *every < 1 {
		log.Fatal("bprcurve: want -data and -every ≥ 1")
	}
	d, _, err := recsys.ReadRatings(*path, recsys.ReadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	if d, err = recsys.Interactions(d, *threshold); err != nil {
		log.Fatal(err)
	}
	trainR, testR, err := recsys.RandomSplit(d.Ratings, 0.2, 1)
	if err != nil {
		log.Fatal(err)
	}
	m, err := recsys.NewMatrix(trainR, d.NumUsers(), d.NumItems())
	if err != nil {
		log.Fatal(err)
	}
	ec := recsys.EvalConfig{K: 10, RankUsers: *rankUsers, Seed: 1, Implicit: true}
	pop, err := recsys.Evaluate(recsys.FitPopularity(m, d.Scale), m, testR, ec)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d train, %d test interactions; popularity ndcg@10 %.4f recall@10 %.4f\n", len(trainR), len(testR), pop.NDCG, pop.Recall)
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	cfg := recsys.BPRConfig{Candidates: *cand, Negatives: *negs, LR: *lr, Reg: *reg, Epochs: *epochs, Average: *average}
	var fit time.Duration // the fit's time, without the evaluations
	last := time.Now()
	var evalErr error
	_, err = recsys.FitBPR(context.Background(), m, cfg, func(e recsys.BPREpoch, model *recsys.Implicit) bool {
		fit += time.Since(last)
		defer func() { last = time.Now() }()
		if e.Epoch%*every != 0 {
			return false
		}
		r, err := recsys.Evaluate(model, m, testR, ec)
		if err != nil {
			evalErr = err
			return true
		}
		fmt.Printf("epoch %d  train/auc %.4f  test ndcg@10 %.4f recall@10 %.4f  (fit %s)\n", e.Epoch, e.AUC, r.NDCG, r.Recall, fit.Round(time.Millisecond))
		return false
	})
	if err == nil {
		err = evalErr
	}
	if err != nil {
		log.Fatal(err)
	}
}
