package export

import (
	"fmt"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/onnx"
)

// onnxModel builds and encodes the inference graph of m with c's weights.
func onnxModel(m *Model, c *checkpoint.Checkpoint) ([]byte, error) {
	var (
		g   *onnx.Model
		err error
	)
	switch {
	case m.TextCNN != nil:
		g, err = onnx.TextCNN(*m.TextCNN, c.Weights)
	case m.LSTM != nil:
		g, err = onnx.LSTM(*m.LSTM, c.Weights)
	case m.ConvNet != nil:
		g, err = onnx.ConvNet(*m.ConvNet, c.Weights)
	case m.MF != nil:
		g, err = onnx.MF(*m.MF, c.Weights)
	default:
		return nil, fmt.Errorf("%s is not a network: ONNX export covers textcnn, lstm, convnet and recsys mf (safetensors export covers it)", m)
	}
	if err != nil {
		return nil, err
	}
	// The checkpoint's kind and configs replace the builder's kind ("recsys"
	// rather than the package's "recsys-mf"); its architecture config stays.
	if g.Metadata == nil {
		g.Metadata = map[string]string{}
	}
	for k, v := range Metadata(c) {
		g.Metadata[k] = v
	}
	return g.Marshal()
}
