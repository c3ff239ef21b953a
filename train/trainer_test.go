package train

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/train/optim"
)

// mlp is a small binary classifier with dropout, so resuming must restore
// the random stream as well as the weights.
type mlp struct{}

func (mlp) Task() metrics.Task { return metrics.Binary }

func (mlp) Build(b *graph.Builder, n int) (graph.Outputs, error) {
	x := b.Input("x", n, 4)
	h := graph.Dropout(b, graph.ReLU(graph.Linear(b, "fc1", x, 8, true)), 0.5)
	logits := graph.Linear(b, "fc2", h, 1, true)
	return graph.Outputs{Inputs: []*G.Node{x}, Output: logits}, nil
}

func (mlp) Loss(b *graph.Builder, out graph.Outputs) (graph.Objective, error) {
	return graph.BinaryLoss(b, out)
}

// blobs is a separable two-class problem of n examples.
func blobs(n int, seed uint64) *dataset.Tensors {
	rng := rand.New(rand.NewPCG(seed, 3))
	x := make([]float32, n*4)
	y := make([]float32, n)
	for i := 0; i < n; i++ {
		c := float32(i % 2)
		y[i] = c
		for j := 0; j < 4; j++ {
			x[i*4+j] = float32(rng.NormFloat64()) + 2*c - 1
		}
	}
	ds, err := dataset.NewTensors([][]float32{x}, [][]int{{4}}, y, nil)
	if err != nil {
		panic(err)
	}
	return ds
}

func newTrainer(t *testing.T, cfg Config) *Trainer {
	t.Helper()
	tr, err := New(mlp{}, graph.NewParams(tensor.Float32, cfg.Defaults().Seed), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func weightsOf(tr *Trainer) []float32 {
	var all []float32
	for _, p := range tr.Program.Params().List() {
		all = append(all, p.Value.Float32s()...)
	}
	return all
}

func TestResumeIsBitExact(t *testing.T) {
	for _, opt := range []string{optim.Adam, optim.SGD} {
		t.Run(opt, func(t *testing.T) {
			cfg := Config{Epochs: 2, Batch: 8, LR: 0.01, Optimizer: optim.Config{Name: opt, Momentum: map[string]float64{optim.SGD: 0.9}[opt]}, Seed: 7}
			trainSet, val := blobs(61, 1), blobs(20, 2)

			straight := newTrainer(t, cfg)
			if err := straight.Fit(context.Background(), trainSet, val); err != nil {
				t.Fatal(err)
			}

			root := t.TempDir()
			first := newTrainer(t, Config{Epochs: 1, Batch: 8, LR: 0.01, Optimizer: cfg.Optimizer, Seed: 7})
			first.Saver = &Saver{Dir: checkpoint.Dir{Root: root}, Info: RunInfo{Kind: "mlp"}}
			if err := first.Fit(context.Background(), trainSet, val); err != nil {
				t.Fatal(err)
			}
			dir, err := checkpoint.Resolve(root, checkpoint.PickLatest)
			if err != nil {
				t.Fatal(err)
			}
			c, err := checkpoint.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			resumed := newTrainer(t, cfg) // fresh weights, overwritten by Resume
			if err := resumed.Resume(c); err != nil {
				t.Fatal(err)
			}
			if err := resumed.Fit(context.Background(), trainSet, val); err != nil {
				t.Fatal(err)
			}
			a, b := weightsOf(straight), weightsOf(resumed)
			for i := range a {
				if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
					t.Fatalf("weight %d: straight %v, resumed %v", i, a[i], b[i])
				}
			}
			if straight.Step != resumed.Step || resumed.History.Len() != 2 {
				t.Fatalf("steps %d vs %d, history %d epochs", straight.Step, resumed.Step, resumed.History.Len())
			}
		})
	}
}

func TestSameSeedSameWeights(t *testing.T) {
	cfg := Config{Epochs: 2, Batch: 16, LR: 0.01, Seed: 3}
	a, b := newTrainer(t, cfg), newTrainer(t, cfg)
	for _, tr := range []*Trainer{a, b} {
		if err := tr.Fit(context.Background(), blobs(50, 1), nil); err != nil {
			t.Fatal(err)
		}
	}
	wa, wb := weightsOf(a), weightsOf(b)
	for i := range wa {
		if wa[i] != wb[i] {
			t.Fatalf("weight %d differs: %v vs %v", i, wa[i], wb[i])
		}
	}
	c := newTrainer(t, Config{Epochs: 2, Batch: 16, LR: 0.01, Seed: 4})
	if err := c.Fit(context.Background(), blobs(50, 1), nil); err != nil {
		t.Fatal(err)
	}
	if weightsOf(c)[0] == wa[0] {
		t.Fatal("a different seed gave the same weights")
	}
}

// Evaluation covers every example, the final partial batch included, and
// weighs each example equally.
func TestEvaluateCountsEveryExample(t *testing.T) {
	tr := newTrainer(t, Config{Batch: 4, LR: 0.05, Epochs: 3})
	ds := blobs(10, 5)
	if err := tr.Fit(context.Background(), ds, nil); err != nil {
		t.Fatal(err)
	}
	r, err := tr.Evaluate(context.Background(), ds)
	if err != nil {
		t.Fatal(err)
	}
	if r.N != 10 {
		t.Fatalf("evaluated %d examples, want 10", r.N)
	}
	one := newTrainer(t, Config{Batch: 1, LR: 0.05, Epochs: 3})
	for i, p := range one.Program.Params().List() {
		copy(p.Value.Float32s(), tr.Program.Params().List()[i].Value.Float32s())
	}
	r1, err := one.Evaluate(context.Background(), ds)
	if err != nil {
		t.Fatal(err)
	}
	loss, _ := r.Get("loss")
	loss1, _ := r1.Get("loss")
	if math.Abs(loss-loss1) > 1e-6 {
		t.Fatalf("loss with batch 4 = %v, with batch 1 = %v", loss, loss1)
	}
	probs, err := tr.predict(context.Background(), dataset.Subset{Dataset: ds, Index: []int{3}})
	if err != nil || len(probs) != 1 || !(probs[0] >= 0 && probs[0] <= 1) {
		t.Fatalf("predict one example: %v, %v", probs, err)
	}
}

func TestTrainingLearns(t *testing.T) {
	tr := newTrainer(t, Config{Epochs: 5, Batch: 16, LR: 0.01})
	if err := tr.Fit(context.Background(), blobs(200, 1), blobs(100, 2)); err != nil {
		t.Fatal(err)
	}
	acc := tr.History.Column("val/accuracy")
	if last := acc[len(acc)-1]; last < 0.9 {
		t.Fatalf("val/accuracy %v after 5 epochs on separable blobs", last)
	}
}

func TestWeightsOnlyRefusesResume(t *testing.T) {
	tr := newTrainer(t, Config{Epochs: 1})
	c, err := Snapshot(tr, RunInfo{Kind: "mlp"}, true)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "w")
	if err := checkpoint.Save(dir, c); err != nil {
		t.Fatal(err)
	}
	loaded, err := checkpoint.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	err = newTrainer(t, Config{Epochs: 2}).Resume(loaded)
	if err == nil || !strings.Contains(err.Error(), "weights-only") {
		t.Fatalf("resume from a weights-only checkpoint: %v", err)
	}
}

func TestLoadWeightsNamesEveryMismatch(t *testing.T) {
	tr := newTrainer(t, Config{})
	ws := checkpoint.Weights(tr.Program.Params())
	ws[0].Shape = []int{3, 3}
	ws = append(ws[:1], ws[2:]...) // drop fc1.bias
	ws = append(ws, ws[0])
	ws[len(ws)-1].Name = "extra.weight"
	err := checkpoint.LoadWeights(tr.Program.Params(), ws, "model.safetensors")
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"model.safetensors", `"fc1.weight" has shape [3 3]`, `missing "fc1.bias"`, `unexpected tensor "extra.weight"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	for _, c := range []Config{{Batch: -1}, {Epochs: -2}, {LR: -1}, {Optimizer: optim.Config{Name: "adagrad"}}} {
		if _, err := New(mlp{}, graph.NewParams(tensor.Float32, 1), c); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
}
