package progress_test

import (
	"os"
	"time"

	"github.com/tapeml/tapeml/train/progress"
)

// On a terminal the bar is redrawn in place while the batches run; in a log
// (as here) only the line that ends each epoch is written.
func Example() {
	now := time.Unix(0, 0)
	clock := func() time.Time { return now } // time.Now in real use
	r := progress.NewWithConfig(os.Stdout, 2, progress.Config{Now: clock})
	for epoch := 1; epoch <= 2; epoch++ {
		r.StartEpoch(epoch, 1000)
		for done := 100; done <= 1000; done += 100 {
			now = now.Add(200 * time.Millisecond)
			r.Update(done, 0.5/float64(epoch))
		}
		now = now.Add(500 * time.Millisecond) // validation
		r.EndEpoch([]progress.Named{
			{Name: "train/loss", Value: 0.5 / float64(epoch)},
			{Name: "val/loss", Value: 0.6 / float64(epoch)},
			{Name: "val/accuracy", Value: 0.8 + 0.05*float64(epoch)},
		})
	}
	// Output:
	// epoch 1/2  train/loss 0.5000  val/loss 0.6000  val/accuracy 0.8500  (2.5s, 400 samples/s)
	// epoch 2/2  train/loss 0.2500  val/loss 0.3000  val/accuracy 0.9000  (2.5s, 400 samples/s)
}
