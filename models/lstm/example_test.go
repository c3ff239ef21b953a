package lstm_test

import (
	"fmt"
	"log"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/models/lstm"
)

// Build the reference model and list its parameters, which carry the names
// and shapes of the PyTorch module's state_dict.
func Example() {
	model, err := lstm.New(lstm.DefaultConfig())
	if err != nil {
		log.Fatal(err)
	}
	params := graph.NewParams(tensor.Float32, 1)
	prog := graph.NewProgram(model.Build, model.Loss, params, nil)
	if err := prog.Materialize(); err != nil { // create the parameters without running a batch
		log.Fatal(err)
	}
	for _, p := range params.List() {
		fmt.Println(p.Name, p.Shape())
	}
	fmt.Println("trainable values:", params.Count())
	// Output:
	// embedding.weight [25000 100]
	// rnn.weight_ih_l0 [1024 100]
	// rnn.weight_hh_l0 [1024 256]
	// rnn.bias_ih_l0 [1024]
	// rnn.bias_hh_l0 [1024]
	// rnn.weight_ih_l0_reverse [1024 100]
	// rnn.weight_hh_l0_reverse [1024 256]
	// rnn.bias_ih_l0_reverse [1024]
	// rnn.bias_hh_l0_reverse [1024]
	// rnn.weight_ih_l1 [1024 512]
	// rnn.weight_hh_l1 [1024 256]
	// rnn.bias_ih_l1 [1024]
	// rnn.bias_hh_l1 [1024]
	// rnn.weight_ih_l1_reverse [1024 512]
	// rnn.weight_hh_l1_reverse [1024 256]
	// rnn.bias_ih_l1_reverse [1024]
	// rnn.bias_hh_l1_reverse [1024]
	// fc.weight [1 512]
	// fc.bias [1]
	// trainable values: 4810657
}
