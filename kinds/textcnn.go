package kinds

import (
	"encoding/json"

	"github.com/tapeml/tapeml/models/textcnn"
	"github.com/tapeml/tapeml/onnx"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/train"
	"github.com/tapeml/tapeml/train/optim"
)

func init() {
	Register(&Kind{
		Name:    textcnn.Kind,
		Family:  Text,
		Summary: "embedding → Conv1D → max-pool → dense; binary text classifier (spam, sentiment)",
		Decode: func(raw json.RawMessage) (string, Arch, error) {
			c := textcnn.DefaultConfig()
			return decodeText(raw, &c)
		},
		Network: func(a Arch) (train.Model, error) { return textcnn.New(*a.(*textcnn.Config)) },
		ONNX: func(a Arch, ws []safetensors.Tensor) (*onnx.Model, error) {
			return onnx.TextCNN(*a.(*textcnn.Config), ws)
		},
		Defaults: func() (any, train.Config) {
			return textcnn.DefaultConfig(), train.Config{Epochs: 10, Batch: 32, LR: 0.001, Seed: 1, Optimizer: optim.Config{Name: optim.Adam}}
		},
	})
}
