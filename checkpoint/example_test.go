package checkpoint_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/safetensors"
)

func Example() {
	runs, err := os.MkdirTemp("", "runs")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(runs)
	run := checkpoint.Dir{Root: filepath.Join(runs, "mlp-demo"), Keep: 2}

	// The trainer saves after every epoch; epoch 2 has the best val_loss.
	for epoch, valLoss := range []float64{0.9, 0.4, 0.6} {
		epoch++
		c := &checkpoint.Checkpoint{
			Meta: checkpoint.Meta{
				ModelKind:   "mlp",
				ModelConfig: json.RawMessage(`{"hidden":4}`),
				Epoch:       epoch,
				Optimizer:   json.RawMessage(`{"kind":"sgd","lr":0.1}`),
				Best:        &checkpoint.BestMetric{Metric: "val_loss", Mode: "min", Value: min(valLoss, 0.4), Epoch: 2},
			},
			Weights: []safetensors.Tensor{safetensors.F32("fc.weight", []int{1, 2}, []float32{float32(epoch), 0})},
			Extra:   map[string][]byte{"history.csv": []byte("epoch,val_loss\n")},
		}
		if _, err := run.Save(c, epoch, valLoss == 0.4); err != nil {
			fmt.Println(err)
			return
		}
	}

	// `tapeml eval runs/mlp-demo` uses the best checkpoint; --resume the latest.
	for _, pick := range []checkpoint.Pick{checkpoint.PickBest, checkpoint.PickLatest} {
		dir, err := checkpoint.Resolve(run.Root, pick)
		if err != nil {
			fmt.Println(err)
			return
		}
		c, err := checkpoint.Load(dir)
		if err != nil {
			fmt.Println(err)
			return
		}
		w, _ := safetensors.Lookup(c.Weights, "fc.weight")
		v, _ := w.Float32s()
		fmt.Println(filepath.Base(dir), c.Meta.Epoch, v, c.CanResume())
	}
	// Output:
	// epoch-0002 2 [2 0] <nil>
	// epoch-0003 3 [3 0] <nil>
}

// A training takes the run folder with Start before its first save; a
// second training into the same folder, or a fresh one into a folder that
// holds a run, is refused.
func ExampleDir_Start() {
	runs, err := os.MkdirTemp("", "runs")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(runs)
	run := checkpoint.Dir{Root: filepath.Join(runs, "demo")}

	release, err := run.Start(false, false) // a fresh run
	if err != nil {
		fmt.Println(err)
		return
	}
	c := &checkpoint.Checkpoint{Meta: checkpoint.Meta{ModelKind: "mlp", Optimizer: json.RawMessage(`{"kind":"sgd"}`)}}
	if _, err := run.Save(c, 1, true); err != nil {
		fmt.Println(err)
		return
	}
	_, err = run.Start(true, false) // another training, while this one runs
	fmt.Println(errors.Is(err, checkpoint.ErrLocked))
	release()

	_, err = run.Start(false, false) // a fresh run into the finished one
	fmt.Println(errors.Is(err, checkpoint.ErrRunExists))
	release, err = run.Start(true, false) // resuming it is fine
	fmt.Println(err)
	release()
	// Output:
	// true
	// true
	// <nil>
}
