package export

import (
	"encoding/json"
	"strings"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/safetensors"
)

// importInt8 is Import for a file exported from an int8 checkpoint: its
// tensors are kept as they are (W.int8, W.scale, …) with quantization.json
// restored from the metadata, and kinds.Open checks them all.
func importInt8(path string, ts []safetensors.Tensor, quant string, kind string, cfg, pre, training json.RawMessage, like *checkpoint.Checkpoint) (*checkpoint.Checkpoint, error) {
	c := &checkpoint.Checkpoint{Weights: ts, Extra: map[string][]byte{kinds.QuantizationFile: []byte(quant)}}
	c.Meta.ModelKind, c.Meta.ModelConfig, c.Meta.Preprocessing, c.Meta.WeightsOnly = kind, cfg, pre, true
	c.Meta.Optimizer = training
	if like != nil {
		for name, b := range like.Extra {
			if strings.HasPrefix(name, "history.") || name == kinds.QuantizationFile {
				continue
			}
			c.Extra[name] = b
		}
	}
	if _, err := kinds.Open(c); err != nil {
		return nil, err
	}
	return c, nil
}
