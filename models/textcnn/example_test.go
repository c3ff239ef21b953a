package textcnn_test

import (
	"fmt"
	"log"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/models/textcnn"
)

// Build the reference model and list its parameters, which carry the names
// and shapes of the equivalent PyTorch module's state_dict.
func Example() {
	model, err := textcnn.New(textcnn.DefaultConfig())
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
	// embedding.weight [20000 128]
	// convs.0.weight [100 128 3]
	// convs.0.bias [100]
	// convs.1.weight [100 128 4]
	// convs.1.bias [100]
	// convs.2.weight [100 128 5]
	// convs.2.bias [100]
	// fc.weight [1 300]
	// fc.bias [1]
	// trainable values: 2714201
}
