package convnet_test

import (
	"fmt"
	"log"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/models/convnet"
)

// Build the reference model for Fashion-MNIST's 1×28×28 images and list
// its state: the names, shapes and order of the PyTorch module's
// state_dict, batch-norm buffers included.
func Example() {
	cfg := convnet.DefaultConfig()
	cfg.Channels, cfg.Height, cfg.Width = 1, 28, 28
	model, err := convnet.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	params := graph.NewParams(tensor.Float32, 1)
	if err := graph.Materialize(model.Build, params); err != nil {
		log.Fatal(err)
	}
	for _, p := range params.List() {
		fmt.Println(p.Name, p.Shape())
	}
	fmt.Println("trainable values:", params.Count())
	// Output:
	// layer1.0.weight [64 1 3 3]
	// layer1.0.bias [64]
	// layer1.1.weight [64]
	// layer1.1.bias [64]
	// layer1.1.running_mean [64]
	// layer1.1.running_var [64]
	// layer1.1.num_batches_tracked []
	// layer2.0.weight [128 64 3 3]
	// layer2.0.bias [128]
	// layer2.1.weight [128]
	// layer2.1.bias [128]
	// layer2.1.running_mean [128]
	// layer2.1.running_var [128]
	// layer2.1.num_batches_tracked []
	// fc.0.weight [1024 6272]
	// fc.0.bias [1024]
	// fc.3.weight [512 1024]
	// fc.3.bias [512]
	// fc.6.weight [10 512]
	// fc.6.bias [10]
	// trainable values: 7028362
}
