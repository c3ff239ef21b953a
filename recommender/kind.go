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
	Algorithm string             `json:"algo"` // mf, knn, svd (ratings), ials or bpr (interactions)
	MF        *mf.Config         `json:"mf,omitempty"`
	KNN       *recsys.KNNConfig  `json:"knn,omitempty"`
	SVD       *recsys.SVDConfig  `json:"svd,omitempty"`
	IALS      *recsys.IALSConfig `json:"ials,omitempty"`
	BPR       *recsys.BPRConfig  `json:"bpr,omitempty"`
	// Solver fits MF: SolverALS or SolverSGD; "" picks ALS, or SGD for
	// differentially private runs and when an SGD setting (lr, batch) is
	// given.
	Solver string `json:"solver,omitempty"`
}

// The algorithms, and MF's solvers.
const (
	AlgoMF    = "mf"
	AlgoKNN   = "knn"
	AlgoSVD   = "svd"
	AlgoIALS  = recsys.AlgoIALS
	AlgoBPR   = recsys.AlgoBPR
	SolverALS = "als" // alternating least squares with conjugate gradient steps (recsys.FitBiasedALS)
	SolverSGD = "sgd" // the network trained by the generic trainer (Adam; DP-SGD under --dp)
)

// Algos lists the algorithms, for messages.
const Algos = "mf, knn, svd, ials or bpr"

// knownAlgo reports whether a names an algorithm.
func knownAlgo(a string) bool {
	switch a {
	case AlgoMF, AlgoKNN, AlgoSVD, AlgoIALS, AlgoBPR:
		return true
	}
	return false
}

// implicitAlgo reports whether the algorithm models interactions.
func implicitAlgo(a string) bool { return a == AlgoIALS || a == AlgoBPR }

// Algo names the algorithm.
func (c *Config) Algo() string { return c.Algorithm }

// Validate checks the algorithm and, for MF, its configuration.
func (c *Config) Validate() error {
	switch c.Algorithm {
	case AlgoMF:
		if c.MF == nil {
			return fmt.Errorf("recsys: mf without its configuration")
		}
		if c.Solver != "" && c.Solver != SolverALS && c.Solver != SolverSGD {
			return fmt.Errorf("recsys: mf solver %q: want als or sgd", c.Solver)
		}
		return c.MF.Validate()
	case AlgoKNN, AlgoSVD, AlgoIALS, AlgoBPR:
		return nil
	}
	return fmt.Errorf("recommender algo %q, want %s", c.Algorithm, Algos)
}

// Network is MF's network; kNN and SVD are not networks.
func (c *Config) Network() (kinds.Network, error) {
	if c.Algorithm != AlgoMF {
		return nil, nil
	}
	return mf.New(*c.MF)
}

// decode reads the algorithm and MF's configuration from a checkpoint's
// model_config (the others' are the family's to read, with the data).
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
	case AlgoMF:
		m := &mf.Config{}
		if err := kinds.StrictJSON(run.MF, m); err != nil {
			return nil, fmt.Errorf("%q: %w", "mf", err)
		}
		*m = m.WithDefaults() // as mf.New fills them
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("%q: %w", "mf", err)
		}
		c.MF = m
	case AlgoKNN, AlgoSVD, AlgoIALS, AlgoBPR:
	default:
		return nil, fmt.Errorf("recommender algo %q, want %s", run.Algo, Algos)
	}
	return c, nil
}

func init() {
	kinds.Register(&kinds.Kind{
		Name:    Kind,
		Family:  Family,
		Summary: "collaborative filtering: on ratings, matrix factorization (--algo mf), user/item kNN (knn), truncated SVD (svd); on interactions, implicit ALS (ials) and BPR (bpr)",
		Torch:   "MF",
		Default: func() kinds.Config {
			m, k, s := mf.Config{}.WithDefaults(), recsys.DefaultKNN(), recsys.SVDConfig{}.WithDefaults()
			i, b := recsys.IALSConfig{}.WithDefaults(), recsys.BPRConfig{}.WithDefaults()
			i.Alpha = 0 // chosen from the training data (IALSConfig.ForData)
			return &Config{Algorithm: AlgoMF, MF: &m, KNN: &k, SVD: &s, IALS: &i, BPR: &b}
		},
		Decode: decode,
	})
}

// ONNX is MF's inference graph (the other algorithms have none).
func (c *Config) ONNX(weights []safetensors.Tensor) (*onnx.Model, error) {
	if c.Algorithm != AlgoMF {
		return nil, fmt.Errorf("recsys (%s) is not a network", c.Algorithm)
	}
	return c.MF.ONNX(weights)
}
