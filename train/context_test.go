package train

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/tapeml/tapeml/checkpoint"
)

// A cancelled context stops Fit before the next batch; the run folder keeps
// the last complete epoch, and resuming from it gives the weights of an
// uninterrupted run.
func TestFitStopsOnCancelAndResumes(t *testing.T) {
	cfg := Config{Epochs: 3, Batch: 8, LR: 0.01, Seed: 5}
	trainSet, val := blobs(61, 1), blobs(20, 2)
	straight := newTrainer(t, cfg)
	if err := straight.Fit(context.Background(), trainSet, val); err != nil {
		t.Fatal(err)
	}

	root := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cut := newTrainer(t, cfg)
	cut.Saver = &Saver{Dir: checkpoint.Dir{Root: root}, Info: RunInfo{Kind: "mlp"}}
	stepsPerEpoch := int64((trainSet.Len() + cfg.Batch - 1) / cfg.Batch)
	cut.Hooks = Hooks{EveryN: 1, OnSteps: func(step int64, _ float64) {
		if step == stepsPerEpoch+3 { // mid-way through epoch 2
			cancel()
		}
	}}
	err := cut.Fit(ctx, trainSet, val)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Fit after cancel: %v, want context.Canceled", err)
	}
	if cut.Epoch != 1 || cut.Step != stepsPerEpoch+3 {
		t.Fatalf("stopped at epoch %d step %d, want epoch 1 step %d", cut.Epoch, cut.Step, stepsPerEpoch+3)
	}
	latest, err := checkpoint.Resolve(root, checkpoint.PickLatest)
	if err != nil {
		t.Fatal(err)
	}
	c, err := checkpoint.Load(latest)
	if err != nil {
		t.Fatal(err)
	}
	if c.Meta.Epoch != 1 {
		t.Fatalf("latest checkpoint is epoch %d, want 1", c.Meta.Epoch)
	}
	resumed := newTrainer(t, cfg)
	if err := resumed.Resume(c); err != nil {
		t.Fatal(err)
	}
	if err := resumed.Fit(context.Background(), trainSet, val); err != nil {
		t.Fatal(err)
	}
	a, b := weightsOf(straight), weightsOf(resumed)
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("weight %d: uninterrupted %v, interrupted and resumed %v", i, a[i], b[i])
		}
	}

	if _, err := straight.Evaluate(ctx, val); !errors.Is(err, context.Canceled) {
		t.Fatalf("Evaluate with a cancelled context: %v", err)
	}
	if _, err := straight.predict(ctx, val); !errors.Is(err, context.Canceled) {
		t.Fatalf("Predict with a cancelled context: %v", err)
	}
}
