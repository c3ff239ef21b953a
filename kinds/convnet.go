package kinds

import (
	"encoding/json"

	"github.com/tapeml/tapeml/models/convnet"
	"github.com/tapeml/tapeml/onnx"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/train"
)

func init() {
	Register(&Kind{
		Name:    convnet.Kind,
		Family:  Image,
		Summary: "2×(conv → batchnorm → ReLU → max-pool) → 1024 → 512 → classes; image classifier (Fashion-MNIST, CIFAR-10, image folders)",
		Decode: func(raw json.RawMessage) (string, Arch, error) {
			var run struct {
				Model json.RawMessage `json:"model"`
			}
			if err := json.Unmarshal(raw, &run); err != nil {
				return "", nil, err
			}
			c := convnet.DefaultConfig()
			if err := decodeArch(run.Model, "model", &c); err != nil {
				return "", nil, err
			}
			return "", &c, nil
		},
		Network: func(a Arch) (train.Model, error) { return convnet.New(*a.(*convnet.Config)) },
		ONNX: func(a Arch, ws []safetensors.Tensor) (*onnx.Model, error) {
			return onnx.ConvNet(*a.(*convnet.Config), ws)
		},
		Defaults: func() (any, train.Config) { return convnet.DefaultConfig(), convnet.DefaultTraining() },
	})
}
