package kinds

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/tapeml/tapeml/onnx"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/train"
)

// Family says what a kind takes and gives.
type Family string

// The families.
const (
	Text        Family = "text"        // texts in, a binary class out
	Image       Family = "image"       // images in, one of several classes out
	Recommender Family = "recommender" // users and items in, ratings and ranked items out
)

// Arch is a network's configuration: it validates itself, bounds included.
type Arch interface{ Validate() error }

// Kind is one registered model kind.
type Kind struct {
	Name    string
	Family  Family
	Summary string // one line for `tapeml models`
	// Decode reads the architecture from a checkpoint's model_config. algo
	// names a recommender's algorithm; arch is nil for algorithms that are
	// not networks (kNN, SVD).
	Decode func(modelConfig json.RawMessage) (algo string, arch Arch, err error)
	// Network builds the trainable network of arch.
	Network func(arch Arch) (train.Model, error)
	// ONNX builds the inference graph of arch with its weights; nil when
	// the kind has no ONNX form.
	ONNX func(arch Arch, weights []safetensors.Tensor) (*onnx.Model, error)
	// Defaults returns the default architecture (or architectures, by
	// algorithm) and the reference training configuration.
	Defaults func() (arch any, training train.Config)
}

var registry = map[string]*Kind{}

// Register adds a kind; a second kind of the same name is a programmer
// error.
func Register(k *Kind) {
	if _, ok := registry[k.Name]; ok {
		panic("kinds: " + k.Name + " registered twice")
	}
	registry[k.Name] = k
}

// Lookup returns the kind called name; the error lists the known ones.
func Lookup(name string) (*Kind, error) {
	k, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("unknown model kind %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return k, nil
}

// Names lists the registered kinds in the order the documentation gives
// them: text, image, recommender, then by name.
func Names() []string {
	var ks []*Kind
	for _, k := range registry {
		ks = append(ks, k)
	}
	order := map[Family]int{Text: 0, Image: 1, Recommender: 2}
	sort.Slice(ks, func(i, j int) bool {
		if a, b := order[ks[i].Family], order[ks[j].Family]; a != b {
			return a < b
		}
		return ks[i].Name > ks[j].Name // textcnn before lstm
	})
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = k.Name
	}
	return names
}

// Spec is a checkpoint's architecture, decoded and validated.
type Spec struct {
	Kind *Kind
	Algo string // recommenders only
	Arch Arch   // nil for algorithms that are not networks
}

// Describe decodes a model kind and its model_config. from names where
// they were read, for errors.
func Describe(kind string, modelConfig json.RawMessage, from string) (*Spec, error) {
	k, err := Lookup(kind)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	if len(modelConfig) == 0 {
		return nil, fmt.Errorf("%s: no model config", from)
	}
	algo, arch, err := k.Decode(modelConfig)
	if err != nil {
		return nil, fmt.Errorf("%s: model config: %w", from, err)
	}
	return &Spec{Kind: k, Algo: algo, Arch: arch}, nil
}

// Network builds the model to train, check weights against or serve; nil
// for an algorithm that is not a network.
func (s *Spec) Network() (train.Model, error) {
	if s.Arch == nil {
		return nil, nil
	}
	return s.Kind.Network(s.Arch)
}

// ONNX builds the inference graph with weights.
func (s *Spec) ONNX(weights []safetensors.Tensor) (*onnx.Model, error) {
	if s.Arch == nil || s.Kind.ONNX == nil {
		return nil, fmt.Errorf("%s is not a network: ONNX export covers %s (safetensors export covers it)", s, strings.Join(onnxKinds(), ", "))
	}
	return s.Kind.ONNX(s.Arch, weights)
}

func onnxKinds() []string {
	var out []string
	for _, n := range Names() {
		if registry[n].ONNX != nil {
			if registry[n].Family == Recommender {
				n += " mf"
			}
			out = append(out, n)
		}
	}
	return out
}

// String names the model as a user knows it: "convnet", "recsys (mf)".
func (s *Spec) String() string {
	if s.Algo != "" {
		return s.Kind.Name + " (" + s.Algo + ")"
	}
	return s.Kind.Name
}

// decodeArch decodes raw into arch strictly (a misspelt key is an error)
// and validates it.
func decodeArch(raw json.RawMessage, field string, arch Arch) error {
	if len(raw) == 0 {
		return fmt.Errorf("no %q", field)
	}
	if err := StrictJSON(raw, arch); err != nil {
		return fmt.Errorf("%q: %w", field, err)
	}
	if err := arch.Validate(); err != nil {
		return fmt.Errorf("%q: %w", field, err)
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
