package kinds

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/metrics"
)

// Kind is one registered model kind.
type Kind struct {
	Name    string // in checkpoints and on the command line: "textcnn"
	Family  Family // what it reads and answers
	Summary string // one line for `tapeml models`
	Order   int    // place in its family's listings, lowest first (then by name)
	// Torch names the kind's PyTorch reference, the class in
	// tools/pytorch/models.py that the parity goldens come from ("" for
	// none).
	Torch string
	// Default returns the default configuration: a pointer, which a
	// checkpoint's model_config decodes into.
	Default func() Config
	// Decode reads the configuration from a checkpoint's model_config.
	// Nil means the usual layout: the configuration is model_config's
	// "model" object (DecodeModel).
	Decode func(modelConfig json.RawMessage) (Config, error)
}

// Config is a kind's configuration: its architecture, or for kinds that
// are not networks (kNN, SVD) their settings. Configurations validate
// themselves, upper bounds included, so that a configuration read from a
// file cannot ask for more memory than any sensible model needs.
//
// Beyond these methods a kind's Config has optional ones that the
// packages consuming them define: ONNX (export), Training (train),
// AddFlags (the command line).
type Config interface {
	Validate() error
	// Network returns the trainable network; nil, nil for configurations
	// that are not networks.
	Network() (Network, error)
}

// Network is a trainable graph: a forward pass and the objective
// training adds to it (package train's Model).
type Network interface {
	Build(b *graph.Builder, n int) (graph.Outputs, error)
	Loss(b *graph.Builder, out graph.Outputs) (graph.Objective, error)
	Task() metrics.Task
}

var (
	mu       sync.RWMutex
	registry = map[string]*Kind{}
)

// Register adds a kind; kinds register themselves from an init function
// of their package. A second kind of the same name, or one without a
// family or default configuration, is a programmer error.
func Register(k *Kind) {
	mu.Lock()
	defer mu.Unlock()
	switch {
	case k.Name == "" || k.Family == nil || k.Default == nil:
		panic("kinds: Register " + k.Name + ": a kind needs a name, a family and a default configuration")
	case registry[k.Name] != nil:
		panic("kinds: " + k.Name + " registered twice")
	}
	registry[k.Name] = k
}

// Lookup returns the kind called name; the error lists the known ones.
func Lookup(name string) (*Kind, error) {
	mu.RLock()
	k, ok := registry[name]
	mu.RUnlock()
	if !ok {
		return nil, &UnknownKindError{Name: name, Known: Names()}
	}
	return k, nil
}

// UnknownKindError is a kind name nothing registered.
type UnknownKindError struct {
	Name  string
	Known []string
}

func (e *UnknownKindError) Error() string {
	if len(e.Known) == 0 {
		return fmt.Sprintf("unknown model kind %q: no kind is linked into this program (import github.com/tapeml/tapeml/models/all)", e.Name)
	}
	return fmt.Sprintf("unknown model kind %q (known: %s)", e.Name, strings.Join(e.Known, ", "))
}

// familyOrder is the order `tapeml models` lists families in.
var familyOrder = map[string]int{"text": 0, "image": 1, "recommender": 2}

// Names lists the registered kinds: by family (text, image, recommender,
// then others), and within a family by Order and name.
func Names() []string {
	mu.RLock()
	ks := make([]*Kind, 0, len(registry))
	for _, k := range registry {
		ks = append(ks, k)
	}
	mu.RUnlock()
	rank := func(k *Kind) int {
		if r, ok := familyOrder[k.Family.Name()]; ok {
			return r
		}
		return len(familyOrder)
	}
	sort.Slice(ks, func(i, j int) bool {
		if a, b := rank(ks[i]), rank(ks[j]); a != b {
			return a < b
		}
		if a, b := ks[i].Family.Name(), ks[j].Family.Name(); a != b {
			return a < b
		}
		if a, b := ks[i].Order, ks[j].Order; a != b {
			return a < b
		}
		return ks[i].Name < ks[j].Name
	})
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = k.Name
	}
	return names
}

// Describe decodes a kind's configuration from a checkpoint's
// model_config and validates it. from names where it was read, for errors.
func Describe(kind string, modelConfig json.RawMessage, from string) (*Kind, Config, error) {
	k, err := Lookup(kind)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", from, err)
	}
	if len(modelConfig) == 0 {
		return nil, nil, fmt.Errorf("%s: no model config", from)
	}
	var cfg Config
	if k.Decode != nil {
		cfg, err = k.Decode(modelConfig)
	} else {
		cfg = k.Default()
		err = DecodeModel(modelConfig, cfg)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: model config: %w", from, err)
	}
	return k, cfg, nil
}

// Name names a kind with its configuration as a user knows it: "convnet",
// "recsys (mf)" (configurations with an Algo method add it).
func Name(k *Kind, cfg Config) string {
	if a, ok := cfg.(interface{ Algo() string }); ok && a.Algo() != "" {
		return k.Name + " (" + a.Algo() + ")"
	}
	return k.Name
}

// DecodeModel decodes model_config's "model" object into cfg strictly (a
// misspelt key is an error) and validates it.
func DecodeModel(modelConfig json.RawMessage, cfg Config) error {
	var run struct {
		Model json.RawMessage `json:"model"`
	}
	if err := json.Unmarshal(modelConfig, &run); err != nil {
		return err
	}
	if len(run.Model) == 0 {
		return fmt.Errorf("no %q", "model")
	}
	if err := StrictJSON(run.Model, cfg); err != nil {
		return fmt.Errorf("%q: %w", "model", err)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%q: %w", "model", err)
	}
	return nil
}

// StrictJSON decodes, refusing unknown fields so that a misspelt key is
// reported rather than ignored.
func StrictJSON(raw []byte, v any) error {
	if len(raw) == 0 {
		return fmt.Errorf("missing")
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
