package export

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/tapeml/tapeml/kinds"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/train"
)

// Import reads the safetensors file at path, holding the weights of one of
// tapeml's networks (as WriteFile or PyTorch's save_file wrote them), and
// returns them as a weights-only checkpoint, not yet saved: usable for
// evaluation, prediction and as the starting point of training.
//
// The kind, config and preprocessing come from like, a tapeml checkpoint
// of the same model, when it is not nil (its extra files, such as a
// recommender's training ratings, are carried over too); otherwise from
// the file's tapeml metadata. Every tensor must fit the model: each
// missing, unexpected or mis-shaped one is named in the error.
func Import(path string, like *checkpoint.Checkpoint) (*checkpoint.Checkpoint, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var kind, from string
	var cfg, pre, training json.RawMessage
	fileKind := f.Metadata[MetaKind]
	if v, ok := f.Metadata[MetaFormatVersion]; ok {
		if n, err := strconv.Atoi(v); err != nil || n < 1 || n > checkpoint.FormatVersion {
			return nil, fmt.Errorf("%s: __metadata__ %s is %q; this tapeml reads format versions 1 to %d", path, MetaFormatVersion, v, checkpoint.FormatVersion)
		}
	}
	switch {
	case like != nil:
		kind, cfg, pre, training, from = like.Meta.ModelKind, like.Meta.ModelConfig, like.Meta.Preprocessing, like.Meta.Optimizer, checkpointName(like)
		if fileKind != "" && fileKind != kind {
			return nil, fmt.Errorf("%s holds a %s model (its __metadata__ says so), but %s is a %s model", path, fileKind, from, kind)
		}
	case fileKind == "":
		return nil, fmt.Errorf("%s has no tapeml metadata (%s): give a tapeml checkpoint of the same model for its config and preprocessing (tapeml import --like DIR)", path, MetaKind)
	default:
		kind, from = fileKind, path+" __metadata__"
		cfg, pre, training = json.RawMessage(f.Metadata[MetaConfig]), json.RawMessage(f.Metadata[MetaPreprocessing]), json.RawMessage(f.Metadata[MetaTraining])
		for key, raw := range map[string]json.RawMessage{MetaConfig: cfg, MetaPreprocessing: pre, MetaTraining: training} {
			if len(raw) > 0 && !json.Valid(raw) {
				return nil, fmt.Errorf("%s: __metadata__ %s is not valid JSON", path, key)
			}
		}
	}
	m, err := kinds.Describe(kind, cfg, from)
	if err != nil {
		return nil, err
	}
	net, err := m.Network()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	if net == nil {
		return nil, fmt.Errorf("%s is a %s: import covers networks (textcnn, lstm, convnet, recsys mf)", from, m)
	}
	if m.Kind.Name == kinds.Recsys && like == nil {
		return nil, fmt.Errorf("%s: a recommender needs its training ratings, which only its checkpoint has: give it with --like DIR", path)
	}
	if len(pre) == 0 {
		return nil, fmt.Errorf("%s: no preprocessing (%s)", from, MetaPreprocessing)
	}
	if q, ok := f.Metadata[MetaQuantization]; ok {
		return importInt8(path, f.Tensors, q, kind, cfg, pre, training, like)
	}
	// Compare shapes before allocating: the config may come from the file.
	if err := train.CheckModelShapes(net, f.Tensors, path); err != nil {
		return nil, err
	}
	if err := safetensors.CheckFinite(f.Tensors); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	params := graph.NewParams(tensor.Float32, 0)
	if err := graph.Materialize(net.Build, params); err != nil {
		return nil, fmt.Errorf("%s: building the model: %w", from, err)
	}
	if err := train.LoadWeights(params, f.Tensors, path); err != nil {
		return nil, err
	}
	c := &checkpoint.Checkpoint{Weights: train.Weights(params)}
	c.Meta.ModelKind, c.Meta.ModelConfig, c.Meta.Preprocessing, c.Meta.WeightsOnly = kind, cfg, pre, true
	c.Meta.Optimizer = training // the training configuration, kept for fine-tuning
	if like != nil {
		for name, b := range like.Extra {
			// The training history belongs to the run that made like.
			if strings.HasPrefix(name, "history.") {
				continue
			}
			if c.Extra == nil {
				c.Extra = map[string][]byte{}
			}
			c.Extra[name] = b
		}
	}
	return c, nil
}
