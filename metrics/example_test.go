package metrics_test

import (
	"fmt"
	"os"

	"github.com/tapeml/tapeml/metrics"
)

// A trainer feeds each batch's mean loss, model outputs and targets to an
// Accumulator, appends the epoch's Result to a History, and asks
// EarlyStopping whether to go on.
func Example() {
	var history metrics.History
	stopper := metrics.EarlyStopping{Monitor: "val/loss", Mode: metrics.Min, Patience: 2}

	val := metrics.NewAccumulator(metrics.Binary, 0)
	lastBatchLoss := []float64{0.1, 0.5, 0.6, 0.2} // validation gets worse
	for epoch := 1; epoch <= 4; epoch++ {
		val.Reset()
		// Two batches of validation probabilities and labels; the last one
		// is partial.
		_ = val.Add(0.40, 4, []float32{0.9, 0.2, 0.6, 0.4}, []float32{1, 0, 0, 1})
		_ = val.Add(lastBatchLoss[epoch-1], 1, []float32{0.8}, []float32{1})
		r := val.Result()

		record := append([]metrics.Named{{Name: "epoch", Value: float64(epoch)}}, r.Prefixed("val/")...)
		if err := history.Append(record); err != nil {
			fmt.Println(err)
			return
		}
		loss, _ := r.Get("loss")
		improved, stop := stopper.Observe(loss)
		fmt.Printf("epoch %d: val/loss %.3f improved %v stop %v\n", epoch, loss, improved, stop)
		if stop {
			break
		}
	}
	best, value, _ := history.Best("val/loss", metrics.Min)
	fmt.Printf("best epoch %d (%.3f)\n", best, value)
	_ = history.WriteCSV(os.Stdout)
	// Output:
	// epoch 1: val/loss 0.340 improved true stop false
	// epoch 2: val/loss 0.420 improved false stop false
	// epoch 3: val/loss 0.440 improved false stop true
	// best epoch 1 (0.340)
	// epoch,val/loss,val/accuracy,val/precision,val/recall,val/f1,val/auc
	// 1,0.34,0.6,0.6666666666666666,0.6666666666666666,0.6666666666666666,0.8333333333333334
	// 2,0.42000000000000004,0.6,0.6666666666666666,0.6666666666666666,0.6666666666666666,0.8333333333333334
	// 3,0.44000000000000006,0.6,0.6666666666666666,0.6666666666666666,0.6666666666666666,0.8333333333333334
}
