package onnx_test

import (
	"fmt"
	"log"
	"strings"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/models/textcnn"
	"github.com/tapeml/tapeml/onnx"
)

// Export a TextCNN's weights (here freshly initialized; normally a
// checkpoint's model.safetensors) as an ONNX model.
func Example() {
	cfg := textcnn.Config{NumWords: 1000, EmbedDim: 16, Filters: 8, Kernel: 5, Pool: 5, MaxLen: 50}
	model, err := textcnn.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	params := graph.NewParams(tensor.Float32, 1)
	if err := graph.Materialize(model.Build, params); err != nil {
		log.Fatal(err)
	}
	m, err := cfg.ONNX(checkpoint.Weights(params))
	if err != nil {
		log.Fatal(err)
	}
	m.Metadata["source"] = "example" // callers may add their own metadata
	b, err := m.Marshal()            // the bytes of a .onnx file
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(b), "bytes")

	fmt.Println("opset", m.OpsetImports[0].Version, "producer", m.ProducerName)
	for _, v := range m.Graph.Inputs {
		fmt.Println("input ", v.Name, v.ElemType, v.Shape)
	}
	for _, v := range m.Graph.Outputs {
		fmt.Println("output", v.Name, v.ElemType, v.Shape)
	}
	var ops []string
	for _, n := range m.Graph.Nodes {
		ops = append(ops, n.OpType)
	}
	fmt.Println(strings.Join(ops, " → "))
	fmt.Println(m.Metadata[onnx.MetaKind], m.Metadata[onnx.MetaConfig])
	// Output:
	// 67814 bytes
	// opset 13 producer tapeml
	// input  ids int64 [batch 50]
	// output logits float [batch 1]
	// output probs float [batch 1]
	// Gather → Transpose → Conv → Relu → MaxPool → Flatten → Gemm → Sigmoid
	// textcnn {"num_words":1000,"embed_dim":16,"filters":8,"kernel":5,"pool":5,"maxlen":50}
}
