package export

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tapeml/tapeml/models/convnet"
	"github.com/tapeml/tapeml/models/lstm"
	mf "github.com/tapeml/tapeml/models/recsys"
	"github.com/tapeml/tapeml/models/textcnn"
	"github.com/tapeml/tapeml/train"
)

// RecsysKind is the checkpoint kind of tapeml's recommenders; Model.Algo
// says which one (mf, knn or svd).
const RecsysKind = "recsys"

// Kinds lists the model kinds this package exports, in the order the
// documentation gives them.
var Kinds = []string{textcnn.Kind, lstm.Kind, convnet.Kind, RecsysKind}

// Model is a checkpoint's architecture, decoded from its kind and
// model_config (as tapeml's trainers write them: the architecture under
// "model", or for recommenders "algo" with "mf", "knn" or "svd"). Exactly
// one of the config pointers is set, except for knn and svd recommenders,
// which are not networks and have none.
type Model struct {
	Kind    string
	Algo    string // recommenders only
	TextCNN *textcnn.Config
	LSTM    *lstm.Config
	ConvNet *convnet.Config
	MF      *mf.Config
}

// Describe decodes a model kind and its model_config. from names where they
// were read, for errors.
func Describe(kind string, modelConfig json.RawMessage, from string) (*Model, error) {
	m := &Model{Kind: kind}
	if len(modelConfig) == 0 {
		return nil, fmt.Errorf("%s: no model config", from)
	}
	var arch struct {
		Model json.RawMessage `json:"model"`
		Algo  string          `json:"algo"`
		MF    json.RawMessage `json:"mf"`
	}
	if err := json.Unmarshal(modelConfig, &arch); err != nil {
		return nil, fmt.Errorf("%s: model config: %w", from, err)
	}
	decode := func(raw json.RawMessage, field string, v interface{ Validate() error }) error {
		if len(raw) == 0 {
			return fmt.Errorf("%s: model config has no %q", from, field)
		}
		if err := json.Unmarshal(raw, v); err != nil {
			return fmt.Errorf("%s: model config %q: %w", from, field, err)
		}
		if err := v.Validate(); err != nil {
			return fmt.Errorf("%s: model config %q: %w", from, field, err)
		}
		return nil
	}
	switch kind {
	case textcnn.Kind:
		m.TextCNN = &textcnn.Config{}
		return m, decode(arch.Model, "model", m.TextCNN)
	case lstm.Kind:
		m.LSTM = &lstm.Config{}
		return m, decode(arch.Model, "model", m.LSTM)
	case convnet.Kind:
		m.ConvNet = &convnet.Config{}
		return m, decode(arch.Model, "model", m.ConvNet)
	case RecsysKind:
		m.Algo = arch.Algo
		switch arch.Algo {
		case "mf":
			m.MF = &mf.Config{}
			return m, decode(arch.MF, "mf", m.MF)
		case "knn", "svd":
			return m, nil
		}
		return nil, fmt.Errorf("%s: model config: recommender algo %q, want mf, knn or svd", from, arch.Algo)
	}
	return nil, fmt.Errorf("%s: unknown model kind %q (known: %s)", from, kind, strings.Join(Kinds, ", "))
}

// Network returns the model to build (for inference, training or
// checking weights), or nil for knn and svd, which are not networks.
func (m *Model) Network() (train.Model, error) {
	switch {
	case m.TextCNN != nil:
		return textcnn.New(*m.TextCNN)
	case m.LSTM != nil:
		return lstm.New(*m.LSTM)
	case m.ConvNet != nil:
		return convnet.New(*m.ConvNet)
	case m.MF != nil:
		return mf.New(*m.MF)
	}
	return nil, nil
}

// String names the model as a user knows it: "convnet", "recsys (mf)".
func (m *Model) String() string {
	if m.Algo != "" {
		return m.Kind + " (" + m.Algo + ")"
	}
	return m.Kind
}
