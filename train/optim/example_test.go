package optim_test

import (
	"fmt"
	"log"

	"github.com/tapeml/tapeml/train/optim"
)

// Minimise (w − 3)² with Adam under a warm-up-and-cosine schedule, saving
// the optimizer's state at the end as a checkpoint would.
func ExampleNew() {
	opt, err := optim.New(optim.Config{Name: "adam", ClipNorm: 10})
	if err != nil {
		log.Fatal(err)
	}
	sched, err := optim.NewSchedule(optim.ScheduleConfig{Name: "cosine", LR: 0.5, MinLR: 0.01, WarmupSteps: 10, TotalSteps: 200}, 0)
	if err != nil {
		log.Fatal(err)
	}
	w := optim.Param{Name: "w", Shape: []int{1}, Value: []float32{0}, Grad: []float32{0}}
	for step := range int64(200) {
		w.Grad[0] = 2 * (w.Value[0] - 3) // the gradient a backward pass would give
		if err := opt.Step([]optim.Param{w}, sched.LR(step)); err != nil {
			log.Fatal(err)
		}
	}
	st := opt.State()
	fmt.Printf("w = %.3f after %d steps, last gradient norm %.4f\n", w.Value[0], st.Step, opt.GradNorm())
	fmt.Println("state slots:", len(st.Slots), st.Shapes["w.exp_avg"])
	// Output:
	// w = 3.000 after 200 steps, last gradient norm 0.0002
	// state slots: 2 [1]
}
