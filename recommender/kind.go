package recommender

import (
	"encoding/json"
	"fmt"

	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/models/mf"
	"github.com/tapeml/tapeml/onnx"
	"github.com/tapeml/tapeml/recsys"
	"github.com/tapeml/tapeml/safetensors"
)

// Kind is the recommender kind's name.
const Kind = "recsys"

// Config is the recsys kind's configuration: which algorithm, and its
// settings. Only matrix factorization is a network.
type Config struct {
	Algorithm string            `json:"algo"` // mf, knn or svd
	MF        *mf.Config        `json:"mf,omitempty"`
	KNN       *recsys.KNNConfig `json:"knn,omitempty"`
	SVD       *recsys.SVDConfig `json:"svd,omitempty"`
}

// Algo names the algorithm.
func (c *Config) Algo() string { return c.Algorithm }

// Validate checks the algorithm and, for MF, its configuration.
func (c *Config) Validate() error {
	switch c.Algorithm {
	case "mf":
		if c.MF == nil {
			return fmt.Errorf("recsys: mf without its configuration")
		}
		return c.MF.Validate()
	case "knn", "svd":
		return nil
	}
	return fmt.Errorf("recommender algo %q, want mf, knn or svd", c.Algorithm)
}

// Network is MF's network; kNN and SVD are not networks.
func (c *Config) Network() (kinds.Network, error) {
	if c.Algorithm != "mf" {
		return nil, nil
	}
	return mf.New(*c.MF)
}

// decode reads the algorithm and MF's configuration from a checkpoint's
// model_config (kNN's and SVD's are the family's to read, with the data).
func decode(raw json.RawMessage) (kinds.Config, error) {
	var run struct {
		Algo string          `json:"algo"`
		MF   json.RawMessage `json:"mf"`
	}
	if err := json.Unmarshal(raw, &run); err != nil {
		return nil, err
	}
	c := &Config{Algorithm: run.Algo}
	switch run.Algo {
	case "mf":
		m := &mf.Config{}
		if err := kinds.StrictJSON(run.MF, m); err != nil {
			return nil, fmt.Errorf("%q: %w", "mf", err)
		}
		*m = m.WithDefaults() // as mf.New fills them
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("%q: %w", "mf", err)
		}
		c.MF = m
	case "knn", "svd":
	default:
		return nil, fmt.Errorf("recommender algo %q, want mf, knn or svd", run.Algo)
	}
	return c, nil
}

func init() {
	kinds.Register(&kinds.Kind{
		Name:    Kind,
		Family:  Family,
		Summary: "collaborative filtering: matrix factorization (--algo mf), user/item kNN (knn), truncated SVD (svd)",
		Torch:   "MF",
		Default: func() kinds.Config {
			m, k, s := mf.Config{}.WithDefaults(), recsys.DefaultKNN(), recsys.SVDConfig{}.WithDefaults()
			return &Config{Algorithm: "mf", MF: &m, KNN: &k, SVD: &s}
		},
		Decode: decode,
	})
}

// ONNX is MF's inference graph (kNN and SVD have none).
func (c *Config) ONNX(weights []safetensors.Tensor) (*onnx.Model, error) {
	if c.Algorithm != "mf" {
		return nil, fmt.Errorf("recsys (%s) is not a network", c.Algorithm)
	}
	return c.MF.ONNX(weights)
}
