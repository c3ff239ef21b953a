package mf

import (
	"context"
	"flag"
	"runtime"
	"testing"
	"time"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/recsys"
	"github.com/tapeml/tapeml/tools/synth"
	"github.com/tapeml/tapeml/train"
)

var figures = flag.Bool("figures", false, "measure the figures on MovieLensSmallLike and the built-in set (about a minute)")

// fitDefaults trains the default model on train and returns its Recommender
// and the training time.
func fitDefaults(tb testing.TB, d *recsys.Dataset, tr []recsys.Rating, m *recsys.Matrix) (*Recommender, time.Duration) {
	tb.Helper()
	start := time.Now()
	model, err := New(FitConfig(d, tr))
	if err != nil {
		tb.Fatal(err)
	}
	trainer, err := train.New(model, graph.NewParams(tensor.Float32, 1), DefaultTraining())
	if err != nil {
		tb.Fatal(err)
	}
	if err := trainer.Fit(context.Background(), Dataset(tr), nil); err != nil {
		tb.Fatal(err)
	}
	elapsed := time.Since(start)
	rec, err := NewRecommender(checkpoint.Weights(trainer.Program.Params()), model.Config, m)
	if err != nil {
		tb.Fatal(err)
	}
	return rec, elapsed
}

// TestFigures prints every algorithm's test metrics on a seeded 80/20
// split of MovieLensSmallLike and of the built-in set:
//
//	go test -run Figures -figures -v ./models/recsys
func TestFigures(t *testing.T) {
	if !*figures {
		t.Skip("run with -figures")
	}
	for _, set := range []struct {
		name string
		cfg  synth.Config
	}{{"MovieLensSmallLike", synth.MovieLensSmallLike()}, {"built-in", synth.Builtin()}} {
		d, err := synth.Synthesize(set.cfg)
		if err != nil {
			t.Fatal(err)
		}
		tr, te, _ := recsys.RandomSplit(d.Ratings, 0, 1)
		m, _ := recsys.NewMatrix(tr, d.NumUsers(), d.NumItems())
		t.Logf("%s: %v; train %d, test %d", set.name, recsys.Summarize(d.Ratings), len(tr), len(te))
		rec, took := fitDefaults(t, d, tr, m)
		report := func(name string, r recsys.Recommender, took time.Duration) {
			rep, err := recsys.Evaluate(r, m, te, recsys.EvalConfig{})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%-10s fit %6.2fs  %v", name, took.Seconds(), rep)
		}
		report("mf", rec, took)
		start := time.Now()
		knn, err := recsys.FitKNN(m, d.Scale, recsys.KNNConfig{})
		if err != nil {
			t.Fatal(err)
		}
		report("knn-user", knn, time.Since(start))
		start = time.Now()
		iknn, err := recsys.FitKNN(m, d.Scale, recsys.KNNConfig{Based: recsys.ItemBased})
		if err != nil {
			t.Fatal(err)
		}
		report("knn-item", iknn, time.Since(start))
		start = time.Now()
		svd, err := recsys.FitSVD(m, d.Scale, recsys.SVDConfig{})
		if err != nil {
			t.Fatal(err)
		}
		report("svd", svd, time.Since(start))
		start = time.Now()
		ref, err := recsys.FitSVD(m, d.Scale, recsys.SVDConfig{Centre: recsys.CentreUser, Factors: 50})
		if err != nil {
			t.Fatal(err)
		}
		report("svd-user50", ref, time.Since(start))
		report("popularity", recsys.FitPopularity(m, d.Scale), 0)
	}
}

// BenchmarkFit1M trains the default model (10 epochs, batch 1024) on 80%
// of synth.MovieLens1MLike (800,167 ratings):
//
//	go test -run '^$' -bench Fit1M -benchtime 1x ./models/recsys
func BenchmarkFit1M(b *testing.B) {
	d, err := synth.Synthesize(synth.MovieLens1MLike())
	if err != nil {
		b.Fatal(err)
	}
	tr, te, _ := recsys.RandomSplit(d.Ratings, 0, 1)
	m, _ := recsys.NewMatrix(tr, d.NumUsers(), d.NumItems())
	runtime.GC()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec, _ := fitDefaults(b, d, tr, m)
		b.StopTimer()
		if i == 0 {
			rep, _ := recsys.Evaluate(rec, m, te, recsys.EvalConfig{})
			b.Logf("test: %v", rep)
		}
		b.StartTimer()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapSys)/(1<<20), "heap-sys-MiB")
}
