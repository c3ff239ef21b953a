package export

import (
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/kinds"
)

// onnxModel builds and encodes the inference graph of m with c's weights.
func onnxModel(m *kinds.Spec, c *checkpoint.Checkpoint) ([]byte, error) {
	g, err := m.ONNX(c.Weights)
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
