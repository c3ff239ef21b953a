package kinds

import (
	"encoding/json"

	"github.com/tapeml/tapeml/models/lstm"
	"github.com/tapeml/tapeml/onnx"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/train"
	"github.com/tapeml/tapeml/train/optim"
)

func init() {
	Register(&Kind{
		Name:    lstm.Kind,
		Family:  Text,
		Summary: "embedding → 2-layer bidirectional LSTM → dense; binary text classifier (sentiment, spam)",
		Decode: func(raw json.RawMessage) (string, Arch, error) {
			c := lstm.DefaultConfig()
			return decodeText(raw, &c)
		},
		Network: func(a Arch) (train.Model, error) { return lstm.New(*a.(*lstm.Config)) },
		ONNX: func(a Arch, ws []safetensors.Tensor) (*onnx.Model, error) {
			return onnx.LSTM(*a.(*lstm.Config), ws)
		},
		// lr 0.005 with clipping, not the reference's 0.001: see models/lstm's doc.
		Defaults: func() (any, train.Config) {
			return lstm.DefaultConfig(), train.Config{Epochs: 10, Batch: 32, LR: 0.005, Seed: 1, Optimizer: optim.Config{Name: optim.Adam, ClipNorm: 5}}
		},
	})
}
