package mf

import (
	"bytes"
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/internal/testutil/gradcheck"
	"github.com/tapeml/tapeml/recsys"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/tools/synth"
	"github.com/tapeml/tapeml/train"
)

// smallData is a quick synthetic set split 80/20.
func smallData(t testing.TB) (*recsys.Dataset, []recsys.Rating, []recsys.Rating, *recsys.Matrix) {
	t.Helper()
	c := synth.Builtin()
	c.Users, c.Items, c.Ratings, c.MinPerUser = 100, 150, 5000, 10
	d, err := synth.Synthesize(c)
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
	return d, tr, te, m
}

func TestParametersArePyTorchNamed(t *testing.T) {
	m, err := New(Config{Users: 7, Items: 5, Factors: 3, GlobalMean: 3.5})
	if err != nil {
		t.Fatal(err)
	}
	params := graph.NewParams(tensor.Float32, 1)
	if err := graph.Materialize(m.Build, params); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name  string
		shape []int
	}{{UserFactors, []int{7, 3}}, {ItemFactors, []int{5, 3}}, {UserBias, []int{7, 1}}, {ItemBias, []int{5, 1}}, {GlobalBias, []int{1}}}
	list := params.List()
	if len(list) != len(want) {
		t.Fatalf("%d parameters, want %d", len(list), len(want))
	}
	for k, w := range want {
		if list[k].Name != w.name || !slices.Equal(list[k].Shape(), w.shape) || !list[k].Trainable {
			t.Errorf("parameter %d is %s %v, want trainable %s %v", k, list[k].Name, list[k].Shape(), w.name, w.shape)
		}
	}
	if mu := params.Get(GlobalBias).Value.Float32s()[0]; mu != 3.5 {
		t.Errorf("global_bias starts at %v, want the mean 3.5", mu)
	}
	if b := params.Get(UserBias).Value.Float32s(); slices.ContainsFunc(b, func(x float32) bool { return x != 0 }) {
		t.Errorf("user biases start at %v, want 0", b)
	}
	var sq float64
	f := params.Get(ItemFactors).Value.Float32s()
	for _, x := range f {
		sq += float64(x * x)
	}
	if sd := math.Sqrt(sq / float64(len(f))); sd < 0.03 || sd > 0.3 {
		t.Errorf("item factors have sd %v, want about InitStd 0.1", sd)
	}
}

func TestGradientOfPenalizedLoss(t *testing.T) {
	m, err := New(Config{Users: 4, Items: 3, Factors: 2, Reg: 0.3, InitStd: 0.5, GlobalMean: 3})
	if err != nil {
		t.Fatal(err)
	}
	build := func(b *graph.Builder) (*G.Node, []*G.Node, error) {
		out, err := m.Build(b, 5)
		if err != nil {
			return nil, nil, err
		}
		obj, err := m.Loss(b, out)
		if err != nil {
			return nil, nil, err
		}
		bind := func(n *G.Node, v []float64, shape ...int) error {
			return G.Let(n, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v)))
		}
		// Repeated users and items: their rows' gradients accumulate.
		if err := bind(out.Inputs[0], []float64{0, 2, 2, 3, 0}, 5, 1); err != nil {
			return nil, nil, err
		}
		if err := bind(out.Inputs[1], []float64{1, 1, 0, 2, 2}, 5, 1); err != nil {
			return nil, nil, err
		}
		if err := bind(obj.Target, []float64{4, 2.5, 5, 1, 3.5}, 5); err != nil {
			return nil, nil, err
		}
		var wrt []*G.Node
		for _, name := range []string{UserFactors, ItemFactors, UserBias, ItemBias, GlobalBias} {
			wrt = append(wrt, b.ParamNode(name))
		}
		return obj.Loss, wrt, nil
	}
	b := graph.NewBuilder(graph.NewParams(tensor.Float64, 2), graph.Train, &graph.Noise{Seed: 2})
	loss, wrt, err := build(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := gradcheck.Check(b.G, loss, wrt, gradcheck.Config{Seed: 2}); err != nil {
		t.Fatal(err)
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		c    Config
		want string
	}{
		{Config{Items: 3}, "users 0 and items 3"},
		{Config{Users: 3, Items: 3, Factors: -1}, "factors"},
		{Config{Users: 3, Items: 3, Reg: -0.1}, "reg"},
		{Config{Users: 3, Items: 3, InitStd: math.NaN()}, "init_std"},
		{Config{Users: 3, Items: 3, Scale: recsys.Scale{Min: 5, Max: 1}}, "scale"},
		{Config{Users: 1 << 25, Items: 3}, "2^24"},
		{Config{Users: 3, Items: 3, Ranking: recsys.Ranking{By: "stars"}}, "ranking"},
	}
	for _, c := range cases {
		if _, err := New(c.c); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.c, err, c.want)
		}
	}
}

// trainSmall trains the default model briefly on smallData.
func trainSmall(t testing.TB, epochs int) (*train.Trainer, *Model, *recsys.Dataset, []recsys.Rating, *recsys.Matrix) {
	t.Helper()
	d, tr, te, m := smallData(t)
	model, err := New(FitConfig(d, tr))
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultTraining()
	cfg.Epochs, cfg.Batch = epochs, 256
	trainer, err := train.New(model, graph.NewParams(tensor.Float32, 1), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := trainer.Fit(context.Background(), Dataset(tr), nil); err != nil {
		t.Fatal(err)
	}
	return trainer, model, d, te, m
}

// TestPredictionIsTheFormulaOfTheSavedTensors computes μ + b_u + b_i +
// p_u·q_i from the weights as written to safetensors and compares it with
// the evaluation graph's output and the Recommender's prediction.
func TestPredictionIsTheFormulaOfTheSavedTensors(t *testing.T) {
	trainer, model, d, te, m := trainSmall(t, 3)
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, checkpoint.Weights(trainer.Program.Params()), nil); err != nil {
		t.Fatal(err)
	}
	file, err := safetensors.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	get := func(name string) []float32 {
		tt, ok := file.Lookup(name)
		if !ok {
			t.Fatalf("saved weights lack %s", name)
		}
		v, err := tt.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	p, q, bu, bi, mu := get(UserFactors), get(ItemFactors), get(UserBias), get(ItemBias), get(GlobalBias)
	f := model.Config.Factors
	formula := func(u, i int) float64 {
		s := float64(mu[0]) + float64(bu[u]) + float64(bi[i])
		for k := 0; k < f; k++ {
			s += float64(p[u*f+k]) * float64(q[i*f+k])
		}
		return min(max(s, d.Scale.Min), d.Scale.Max)
	}
	graphOut, err := predictAll(trainer, Dataset(te))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := NewRecommender(file.Tensors, model.Config, m)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for k, r := range te {
		u, i := int(r.User), int(r.Item)
		if !rec.Baseline.KnownUser(u) || !rec.Baseline.KnownItem(i) {
			continue // the Recommender falls back for rows training never touched
		}
		want := formula(u, i)
		if math.Abs(float64(graphOut[k])-want) > 1e-4 {
			t.Fatalf("rating %d: the graph predicts %v, the formula on the saved tensors %v", k, graphOut[k], want)
		}
		if got := rec.Predict(u, i); math.Abs(got-want) > 1e-9 {
			t.Fatalf("rating %d: the Recommender predicts %v, the formula %v", k, got, want)
		}
		checked++
	}
	if checked < len(te)/2 {
		t.Errorf("only %d of %d test ratings checked", checked, len(te))
	}
}

func TestRecommenderFallbacksAndErrors(t *testing.T) {
	trainer, model, _, _, m := trainSmall(t, 1)
	weights := checkpoint.Weights(trainer.Program.Params())
	rec, err := NewRecommender(weights, model.Config, m)
	if err != nil {
		t.Fatal(err)
	}
	b := rec.Baseline
	var someUser, someItem = -1, -1
	for u := 0; someUser < 0; u++ {
		if b.KnownUser(u) {
			someUser = u
		}
	}
	for i := 0; someItem < 0; i++ {
		if b.KnownItem(i) {
			someItem = i
		}
	}
	mu := float64(trainer.Program.Params().Get(GlobalBias).Value.Float32s()[0])
	bi := float64(trainer.Program.Params().Get(ItemBias).Value.Float32s()[someItem])
	if got := rec.Predict(-1, someItem); math.Abs(got-(mu+bi)) > 1e-6 {
		t.Errorf("unknown user: %v, want μ + b_i = %v", got, mu+bi)
	}
	if got := rec.Predict(1<<30, 1<<30); math.Abs(got-mu) > 1e-6 {
		t.Errorf("unknown user and item: %v, want μ = %v", got, mu)
	}
	if got, pop := rec.Recommend(-1, 3, recsys.ExcludeSeen), b.Popular(m, -1, 3, recsys.ExcludeSeen); !slices.Equal(got, pop) {
		t.Errorf("unknown user gets %v, want the most popular %v", got, pop)
	}
	seen, _ := m.UserRow(someUser)
	list := rec.Recommend(someUser, 10, recsys.ExcludeSeen)
	if len(list) != 10 || cap(list) > 10 {
		// Evaluate keeps every user's list: a catalogue behind each is
		// gigabytes at scale.
		t.Errorf("Recommend(%d, 10): length %d, capacity %d; want 10 and no more", someUser, len(list), cap(list))
	}
	for k, s := range list {
		if _, rated := slices.BinarySearch(seen, int32(s.Index)); rated || (k > 0 && s.Score > list[k-1].Score) {
			t.Fatalf("Recommend(%d) = %v: a rated item, or not best first", someUser, list)
		}
	}
	if sim := rec.SimilarItems(someItem, 5); len(sim) != 5 || sim[0].Index == someItem || sim[0].Score < sim[4].Score {
		t.Errorf("SimilarItems = %v", sim)
	}
	if rec.SimilarUsers(-1, 5) != nil || rec.SimilarItems(1<<30, 5) != nil {
		t.Error("similar to an unknown: want nil")
	}
	bad := slices.Clone(weights)
	bad[0] = safetensors.F32(UserFactors, []int{2, 2}, []float32{1, 2, 3, 4})
	if _, err := NewRecommender(bad, model.Config, m); err == nil || !strings.Contains(err.Error(), `"user_factors.weight" has shape [2 2]`) {
		t.Errorf("wrong shape: %v", err)
	}
	if _, err := NewRecommender(weights[:4], model.Config, m); err == nil || !strings.Contains(err.Error(), `lack "global_bias"`) {
		t.Errorf("missing tensor: %v", err)
	}
	small, _ := recsys.NewMatrix(nil, 2, 2)
	if _, err := NewRecommender(weights, model.Config, small); err == nil || !strings.Contains(err.Error(), "2 users × 2 items") {
		t.Errorf("another matrix: %v", err)
	}
}

// TestDefaultsBeatBaselines trains the defaults on the built-in synthetic
// set: lower test RMSE than the bias baseline, higher NDCG@10 than
// popularity.
func TestDefaultsBeatBaselines(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for a few seconds")
	}
	d, err := synth.Synthesize(synth.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	tr, te, _ := recsys.RandomSplit(d.Ratings, 0, 1)
	m, _ := recsys.NewMatrix(tr, d.NumUsers(), d.NumItems())
	model, err := New(FitConfig(d, tr))
	if err != nil {
		t.Fatal(err)
	}
	trainer, err := train.New(model, graph.NewParams(tensor.Float32, 1), DefaultTraining())
	if err != nil {
		t.Fatal(err)
	}
	if err := trainer.Fit(context.Background(), Dataset(tr), nil); err != nil {
		t.Fatal(err)
	}
	rec, err := NewRecommender(checkpoint.Weights(trainer.Program.Params()), model.Config, m)
	if err != nil {
		t.Fatal(err)
	}
	mf, _ := recsys.Evaluate(rec, m, te, recsys.EvalConfig{})
	pop, _ := recsys.Evaluate(recsys.FitPopularity(m, d.Scale), m, te, recsys.EvalConfig{})
	t.Logf("MF: %v\npopularity: %v", mf, pop)
	if mf.RMSE >= pop.RMSE || mf.NDCG <= pop.NDCG {
		t.Errorf("MF RMSE %.4f NDCG@10 %.4f; baseline RMSE %.4f, popularity NDCG@10 %.4f", mf.RMSE, mf.NDCG, pop.RMSE, pop.NDCG)
	}
}

// predictAll runs the evaluation graph over every example of ds, in order,
// one batch of all of them.
func predictAll(t *train.Trainer, ds dataset.Dataset) ([]float32, error) {
	in, y, n, err := dataset.Head(ds, ds.Len())
	if err != nil {
		return nil, err
	}
	inShapes, targetShape := ds.Shapes()
	ins := make([]*tensor.Dense, len(in))
	for k, v := range in {
		ins[k] = tensor.New(tensor.WithShape(append([]int{n}, inShapes[k]...)...), tensor.WithBacking(v))
	}
	m, err := t.Program.Machine(n, graph.Eval)
	if err != nil {
		return nil, err
	}
	if err := m.Run(ins, tensor.New(tensor.WithShape(append([]int{n}, targetShape...)...), tensor.WithBacking(y))); err != nil {
		return nil, err
	}
	return append([]float32(nil), m.Output().Float32s()...), nil
}
