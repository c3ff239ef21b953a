package recsys_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tapeml/tapeml/recsys"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/tools/synth"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fitted is the small synthetic set split 80/20, with one extra user and
// item that have no training ratings (as a test user or item may).
type fitted struct {
	d           *recsys.Dataset
	train, test []recsys.Rating
	m           *recsys.Matrix
}

func fitSmall(t *testing.T) fitted {
	t.Helper()
	d, err := synth.Synthesize(synth.Small())
	if err != nil {
		t.Fatal(err)
	}
	tr, te, err := recsys.RandomSplit(d.Ratings, 0.2, 1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := recsys.NewMatrix(tr, d.NumUsers()+1, d.NumItems()+1)
	if err != nil {
		t.Fatal(err)
	}
	return fitted{d, tr, te, m}
}

func recommenders(t *testing.T, f fitted) map[string]recsys.Recommender {
	t.Helper()
	out := map[string]recsys.Recommender{"popularity": recsys.FitPopularity(f.m, f.d.Scale)}
	for name, c := range map[string]recsys.KNNConfig{"knn-user": {}, "knn-item": {Based: recsys.ItemBased, Similarity: recsys.Cosine}, "knn-rating": {Ranking: recsys.Ranking{By: recsys.ByRating}}} {
		k, err := recsys.FitKNN(f.m, f.d.Scale, c)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = k
	}
	for name, c := range map[string]recsys.SVDConfig{"svd": {}, "svd-user": {Centre: recsys.CentreUser, Factors: 5}} {
		s, err := recsys.FitSVD(f.m, f.d.Scale, c)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = s
	}
	return out
}

func TestFallbacksAndContracts(t *testing.T) {
	f := fitSmall(t)
	b := recsys.FitBaseline(f.m, f.d.Scale)
	coldUser, coldItem := f.m.NumUsers-1, f.m.NumItems-1
	someUser, someItem := int(f.train[0].User), int(f.train[0].Item)
	for name, rec := range recommenders(t, f) {
		t.Run(name, func(t *testing.T) {
			for _, c := range []struct {
				u, i int
				want float64
			}{
				{-1, someItem, b.Predict(-1, someItem)},
				{coldUser, someItem, b.Mean + b.ItemBias[someItem]},
				{someUser, coldItem, b.Mean + b.UserBias[someUser]},
				{1 << 30, -5, b.Mean},
			} {
				if got := rec.Predict(c.u, c.i); !near(got, f.d.Scale.Clip(c.want)) {
					t.Errorf("Predict(%d, %d) = %v, want the baseline %v", c.u, c.i, got, c.want)
				}
			}
			pop := b.Popular(f.m, -1, 5, recsys.ExcludeSeen)
			for _, u := range []int{-1, coldUser, 1 << 30} {
				got := rec.Recommend(u, 5, recsys.ExcludeSeen)
				if len(got) != 5 || got[0].Index != pop[0].Index {
					t.Errorf("Recommend(unknown %d) = %v, want the most popular %v", u, got, pop)
				}
			}
			if got := rec.Recommend(someUser, 0, recsys.ExcludeSeen); len(got) != 0 {
				t.Errorf("Recommend(n=0) = %v", got)
			}
			for _, got := range [][]recsys.Scored{rec.SimilarUsers(-1, 3), rec.SimilarUsers(coldUser, 3), rec.SimilarItems(coldItem, 3), rec.SimilarItems(1<<30, 3)} {
				if got != nil {
					t.Errorf("similar to an unknown: %v, want nil", got)
				}
			}
			got := rec.Recommend(someUser, 20, recsys.ExcludeSeen)
			seen, _ := f.m.UserRow(someUser)
			for k, s := range got {
				if _, rated := slices.BinarySearch(seen, int32(s.Index)); rated || s.Index == coldItem {
					t.Errorf("recommended item %d is rated or has no training ratings", s.Index)
				}
				if k > 0 && s.Score > got[k-1].Score {
					t.Errorf("scores not descending: %v", got)
				}
			}
			for _, p := range []float64{rec.Predict(someUser, someItem), rec.Predict(someUser, coldItem)} {
				if p < f.d.Scale.Min || p > f.d.Scale.Max || math.IsNaN(p) {
					t.Errorf("prediction %v outside the scale", p)
				}
			}
			if name != "popularity" {
				sim := rec.SimilarItems(someItem, 4)
				if len(sim) == 0 || slices.ContainsFunc(sim, func(s recsys.Scored) bool { return s.Index == someItem }) {
					t.Errorf("SimilarItems(%d) = %v: want others", someItem, sim)
				}
			}
		})
	}
}

// TestBuiltinFigures checks every algorithm's figures on the built-in
// synthetic set against testdata/builtin_eval.json, and that the
// neighbourhood and SVD models beat popularity on NDCG@10.
func TestBuiltinFigures(t *testing.T) {
	d, err := synth.Synthesize(synth.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	tr, te, err := recsys.RandomSplit(d.Ratings, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := recsys.NewMatrix(tr, d.NumUsers(), d.NumItems())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]recsys.Report{}
	for name, rec := range recommenders(t, fitted{d, tr, te, m}) {
		if got[name], err = recsys.Evaluate(rec, m, te, recsys.EvalConfig{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"knn-user", "knn-item", "svd"} {
		if got[name].NDCG <= got["popularity"].NDCG {
			t.Errorf("%s NDCG@10 %.4f does not beat popularity's %.4f", name, got[name].NDCG, got["popularity"].NDCG)
		}
	}
	if got["knn-user"].RMSE > 0.9 {
		t.Errorf("user-kNN RMSE %.4f", got["knn-user"].RMSE)
	}
	golden := filepath.Join("testdata", "builtin_eval.json")
	if *update {
		b, _ := json.MarshalIndent(got, "", "  ")
		if err := os.WriteFile(golden, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	var want map[string]recsys.Report
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for name, w := range want {
		g := got[name]
		for _, p := range [][3]any{{"rmse", g.RMSE, w.RMSE}, {"ndcg", g.NDCG, w.NDCG}, {"precision", g.Precision, w.Precision},
			{"map", g.MAP, w.MAP}, {"coverage", g.Coverage, w.Coverage}} {
			if math.Abs(p[1].(float64)-p[2].(float64)) > 1e-6 {
				t.Errorf("%s %s = %v, golden %v", name, p[0], p[1], p[2])
			}
		}
	}
}

func TestSaveAndLoad(t *testing.T) {
	f := fitSmall(t)
	roundTrip := func(ts []safetensors.Tensor) []safetensors.Tensor {
		var buf bytes.Buffer
		if err := safetensors.Write(&buf, ts, nil); err != nil {
			t.Fatal(err)
		}
		file, err := safetensors.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		return file.Tensors
	}
	same := func(a, b recsys.Recommender) {
		t.Helper()
		for u := 0; u < 10; u++ {
			for i := 0; i < 10; i++ {
				if a.Predict(u, i) != b.Predict(u, i) {
					t.Fatalf("Predict(%d, %d): %v before saving, %v after", u, i, a.Predict(u, i), b.Predict(u, i))
				}
			}
			if !slices.Equal(a.Recommend(u, 5, recsys.ExcludeSeen), b.Recommend(u, 5, recsys.ExcludeSeen)) {
				t.Fatalf("Recommend(%d) changed", u)
			}
		}
	}
	k, err := recsys.FitKNN(f.m, f.d.Scale, recsys.KNNConfig{Based: recsys.ItemBased})
	if err != nil {
		t.Fatal(err)
	}
	k2, err := recsys.LoadKNN(f.m, f.d.Scale, k.Config, roundTrip(k.Tensors()), "knn.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	same(k, k2)
	if _, err := recsys.LoadKNN(f.m, f.d.Scale, recsys.KNNConfig{}, k.Tensors(), "knn.safetensors"); err == nil || !strings.Contains(err.Error(), "do not fit a user-based model") {
		t.Errorf("item lists loaded as user-based: %v", err)
	}
	if _, err := recsys.LoadKNN(f.m, f.d.Scale, k.Config, k.Tensors()[:2], "knn.safetensors"); err == nil || !strings.Contains(err.Error(), `no tensor "knn.neighbour_similarity"`) {
		t.Errorf("missing tensor: %v", err)
	}
	s, err := recsys.FitSVD(f.m, f.d.Scale, recsys.SVDConfig{Factors: 7})
	if err != nil {
		t.Fatal(err)
	}
	s2, err := recsys.LoadSVD(f.m, f.d.Scale, s.Config, roundTrip(s.Tensors()), "svd.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	// float32 storage: equal to 1e-5, not bit for bit.
	for u := 0; u < 10; u++ {
		for i := 0; i < 10; i++ {
			if math.Abs(s.Predict(u, i)-s2.Predict(u, i)) > 1e-5 {
				t.Fatalf("SVD Predict(%d, %d): %v before saving, %v after", u, i, s.Predict(u, i), s2.Predict(u, i))
			}
		}
	}
	if _, err := recsys.LoadSVD(f.m, f.d.Scale, recsys.SVDConfig{Factors: 8}, s.Tensors(), "svd.safetensors"); err == nil || !strings.Contains(err.Error(), "has shape") {
		t.Errorf("wrong factor count: %v", err)
	}
	rs, err := recsys.RatingsFromTensors(roundTrip(recsys.RatingsTensors(f.train)), f.m.NumUsers, f.m.NumItems, f.d.Scale, false, "ratings.safetensors")
	if err != nil || !slices.Equal(rs, f.train) {
		t.Fatalf("ratings round trip: %v", err)
	}
	if _, err := recsys.RatingsFromTensors(recsys.RatingsTensors(f.train), 3, f.m.NumItems, f.d.Scale, false, "ratings.safetensors"); err == nil || !strings.Contains(err.Error(), "outside 3 users") {
		t.Errorf("ratings beyond the id map: %v", err)
	}
}
