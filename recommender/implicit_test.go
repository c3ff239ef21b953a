package recommender_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/api"
	"github.com/tapeml/tapeml/explain"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/recommender"
	"github.com/tapeml/tapeml/recsys"
	"github.com/tapeml/tapeml/train"
)

// trainRecsys runs `tapeml train recsys` as the library does, with the
// defaults but for algo, the data, the out folder and what set changes
// (if not nil), and returns the result and the run's output.
func trainRecsys(t *testing.T, algo, data, items, out string, set func(*train.RunSpec)) (*train.RunResult, string) {
	t.Helper()
	k, err := kinds.Lookup(recommender.Kind)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := train.NewSpec(k)
	if err != nil {
		t.Fatal(err)
	}
	spec.Config.(*recommender.Config).Algorithm = algo
	d := spec.Data.(*recommender.Data)
	d.Path, d.Items = data, items
	spec.Out = out
	if set != nil {
		set(spec)
	}
	var log strings.Builder
	spec.Progress = &log
	res, err := train.Run(context.Background(), *spec)
	if err != nil {
		t.Fatalf("train %s: %v\n%s", algo, err, log.String())
	}
	return res, log.String()
}

// epochs sets a run's epochs.
func epochs(n int) func(*train.RunSpec) {
	return func(s *train.RunSpec) { s.Training.Epochs, s.Set["epochs"] = n, true }
}

// heldOut splits src's data as a run does and returns the training
// matrix, the test split and the data.
func heldOut(t *testing.T, src recommender.Source) (*recsys.Matrix, []recsys.Rating, *recsys.Dataset) {
	t.Helper()
	d, _, _, err := src.Load()
	if err != nil {
		t.Fatal(err)
	}
	trainR, testR, err := src.Split(d)
	if err != nil {
		t.Fatal(err)
	}
	m, err := recsys.NewMatrix(trainR, d.NumUsers(), d.NumItems())
	if err != nil {
		t.Fatal(err)
	}
	return m, testR, d
}

func metric(ms []metrics.Named, name string) float64 {
	for _, m := range ms {
		if m.Name == name {
			return m.Value
		}
	}
	return math.NaN()
}

// TestImplicitBeatsBaselines is the implicit models' acceptance on
// MovieLens-style ratings turned into interactions (ratings ≥ 4, the
// default threshold; the fixture of movieLensLike): trained with their
// defaults, iALS and BPR rank the held-out interactions better than item
// popularity and item-kNN on NDCG@10 and recall@10 (seeded 80/20 split,
// every test user ranked). The synthetic generator's interaction logs are
// measured the same way by the command line (README, docs/scale.md).
func TestImplicitBeatsBaselines(t *testing.T) {
	dir := t.TempDir()
	ratings, movies := movieLensLike(t, dir, 600, 800, 3, 1)
	got := map[string][2]float64{}
	for _, algo := range []string{recommender.AlgoIALS, recommender.AlgoBPR} {
		res, _ := trainRecsys(t, algo, ratings, movies, filepath.Join(dir, algo), nil)
		got[algo] = [2]float64{metric(res.Test.Metrics, "ndcg@10"), metric(res.Test.Metrics, "recall@10")}
	}
	// The baselines, on the run's split.
	m, testR, d := heldOut(t, recommender.Source{Path: ratings, Threshold: recsys.DefaultRelevance, TestFraction: 0.2, Seed: 1})
	for name, rec := range map[string]recsys.Recommender{"popularity": recsys.FitPopularity(m, d.Scale), "item-kNN": recsys.FitItemCosine(m, 0)} {
		r, err := recsys.Evaluate(rec, m, testR, recsys.EvalConfig{K: 10, Implicit: true})
		if err != nil {
			t.Fatal(err)
		}
		got[name] = [2]float64{r.NDCG, r.Recall}
	}
	table := fmt.Sprintf("%d interactions (%d test):\n| model | NDCG@10 | recall@10 |\n|---|---|---|\n", len(d.Ratings), len(testR))
	for _, name := range []string{"ials", "bpr", "popularity", "item-kNN"} {
		table += fmt.Sprintf("| %s | %.4f | %.4f |\n", name, got[name][0], got[name][1])
	}
	t.Log(table)
	for _, model := range []string{"ials", "bpr"} {
		for _, base := range []string{"popularity", "item-kNN"} {
			if a, b := got[model], got[base]; !(a[0] > b[0] && a[1] > b[1]) {
				t.Errorf("%s does not beat %s: NDCG@10 %.4f against %.4f, recall@10 %.4f against %.4f", model, base, a[0], b[0], a[1], b[1])
			}
		}
	}
}

// TestImplicitServes: an iALS checkpoint loads, recommends with titles
// and preference scores (no predicted ratings), labels the popularity
// fallback, lists similar items through Infer, and explains a
// recommendation by the user's items, whose contributions add up.
func TestImplicitServes(t *testing.T) {
	dir := t.TempDir()
	ratings, movies := movieLensLike(t, dir, 200, 300, 3, 2)
	res, _ := trainRecsys(t, recommender.AlgoIALS, ratings, movies, filepath.Join(dir, "run"), epochs(3))
	m, err := tapeml.Load(res.Checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	recs, err := m.Recommendations(ctx, tapeml.RecommendRequest{User: "1", N: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs.Items) != 5 || recs.Fallback || recs.Ratings || recs.RankedBy != "preference" || !strings.Contains(recs.Meaning, "iALS") {
		t.Fatalf("recommendations %+v", recs)
	}
	for _, r := range recs.Items {
		if !strings.HasPrefix(r.Title, "Movie ") || r.Score == 0 || r.Rating != 0 || r.Popularity < 1 || r.Seen {
			t.Errorf("item %+v", r)
		}
	}
	seen, err := m.Recommendations(ctx, tapeml.RecommendRequest{User: "1", N: 300, IncludeSeen: true})
	if err != nil {
		t.Fatal(err)
	}
	marked := 0
	for _, r := range seen.Items {
		if r.Seen {
			marked++
		}
	}
	if marked == 0 {
		t.Error("IncludeSeen marked no item seen")
	}
	pop, err := m.Recommendations(ctx, tapeml.RecommendRequest{User: "nobody", N: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !pop.Fallback || pop.RankedBy != "popularity" || pop.Items[0].Score != 0 || pop.Items[0].Popularity < pop.Items[1].Popularity {
		t.Errorf("fallback %+v", pop)
	}
	out, err := m.Infer(ctx, []api.Tensor{api.Strings("item", []string{recs.Items[0].Item}), {Name: "n", Datatype: api.INT32, Shape: []int64{1}, INT32: []int32{4}}})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]api.Tensor{}
	for _, o := range out {
		byName[o.Name] = o
	}
	if len(byName["items"].Bytes) != 4 || string(byName["ranked_by"].Bytes[0]) != "similarity" || !strings.HasPrefix(string(byName["titles"].Bytes[0]), "Movie ") {
		t.Errorf("similar items: %+v", out)
	}
	ex, err := explain.Recommendation(ctx, m, "1", recs.Items[0].Item)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, c := range ex.Contributions {
		sum += c.Contribution
	}
	if !ex.Implicit || len(ex.Contributions) == 0 || math.Abs(sum-ex.Exact) > 1e-6 || math.Abs(ex.Prediction-float64(recs.Items[0].Score)) > 1e-5 {
		t.Errorf("explanation %+v (contributions add up to %g)", ex, sum)
	}
}

// TestBadRunWarns: MF trained with a learning rate of 10 is worse than
// the popularity baseline; the run still saves it, prints both RMSEs and
// ends with the warning, which the test result carries too.
func TestBadRunWarns(t *testing.T) {
	dir := t.TempDir()
	ratings, movies := movieLensLike(t, dir, 200, 300, 3, 3)
	res, log := trainRecsys(t, recommender.AlgoMF, ratings, movies, filepath.Join(dir, "run"), func(s *train.RunSpec) {
		s.Training.LR, s.Set["lr"] = 10, true
		epochs(3)(s)
	})
	out := strings.TrimSpace(log)
	lines := strings.Split(out, "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "warning: mf predicts worse than the popularity baseline on validation: rmse ") || !strings.Contains(out, "sgd solver") ||
		!strings.Contains(out, "popularity baseline: rmse ") || !strings.Contains(out, "checkpoint: ") {
		t.Errorf("the run printed:\n%s", out)
	}
	if res.Checkpoint == "" || res.Test == nil || len(res.Test.Warnings) != 1 {
		t.Errorf("result: checkpoint %q, test %+v", res.Checkpoint, res.Test)
	}
	if rmse := metric(res.Test.Metrics, "rmse"); !(rmse > 1) {
		t.Errorf("test rmse %g after lr 10; the test expects a bad model", rmse)
	}
}

// TestMFDefaultsBeatPopularity: MF with its defaults (the ALS solver)
// predicts the fixture's held-out ratings better than the popularity
// baseline, without a warning.
func TestMFDefaultsBeatPopularity(t *testing.T) {
	dir := t.TempDir()
	ratings, movies := movieLensLike(t, dir, 600, 800, 3, 4)
	res, _ := trainRecsys(t, recommender.AlgoMF, ratings, movies, filepath.Join(dir, "mf"), nil)
	m, testR, d := heldOut(t, recommender.Source{Path: ratings, TestFraction: 0.2, Seed: 1})
	pop, err := recsys.Evaluate(recsys.FitPopularity(m, d.Scale), m, testR, recsys.EvalConfig{K: 10})
	if err != nil {
		t.Fatal(err)
	}
	if got := metric(res.Test.Metrics, "rmse"); !(got < pop.RMSE) || len(res.Test.Warnings) > 0 {
		t.Errorf("mf test rmse %.4f, popularity %.4f; warnings %q", got, pop.RMSE, res.Test.Warnings)
	} else {
		t.Logf("mf test rmse %.4f, popularity %.4f", got, pop.RMSE)
	}
}
