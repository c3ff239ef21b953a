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
	// embedding.weight [10000 64]
	// conv.weight [64 64 5]
	// conv.bias [64]
	// fc.weight [1 1216]
	// fc.bias [1]
	// trainable values: 661761
}
