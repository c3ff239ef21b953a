package kinds

import (
	"fmt"
	"path/filepath"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/graph"
)

// Loaded is a checkpoint decoded: its kind and configuration, its
// family's codec, and for networks the network with the saved weights.
type Loaded struct {
	Checkpoint *checkpoint.Checkpoint // with dequantized weights, for an int8 checkpoint
	Kind       *Kind
	Config     Config
	Codec      Codec
	Network    Network       // nil for configurations that are not networks
	Params     *graph.Params // the weights, float32 (with the int8 forms set); nil with Network

	// Quantization describes an int8 checkpoint (nil for float32 ones).
	Quantization *checkpoint.Quantization
}

// Name names the model as a user knows it: "textcnn", "recsys (mf)".
func (l *Loaded) Name() string { return Name(l.Kind, l.Config) }

// Decode rebuilds a checkpoint's model. It only decodes what c holds: the
// configuration is checked against the family's preprocessing and, before
// any parameter is allocated, against the shapes of the weights, so that a
// few bytes of hostile JSON cannot ask for gigabytes; each mismatch names
// the field or tensor.
func Decode(c *checkpoint.Checkpoint) (*Loaded, error) {
	meta := c.MetaName()
	k, cfg, err := Describe(c.Meta.ModelKind, c.Meta.ModelConfig, meta)
	if err != nil {
		return nil, err
	}
	c, quant, int8s, err := c.Dequantized()
	if err != nil {
		return nil, err
	}
	l := &Loaded{Checkpoint: c, Kind: k, Config: cfg, Quantization: quant}
	if l.Network, err = cfg.Network(); err != nil {
		return nil, fmt.Errorf("%s: %w", meta, err)
	}
	weights := filepath.Join(c.Dir, checkpoint.WeightsFile)
	if c.Dir == "" && c.Source != "" {
		weights = c.Source
	}
	if l.Network != nil {
		if err := checkpoint.CheckBuild(l.Network.Build, c.Weights, weights); err != nil {
			return nil, err
		}
	}
	if l.Codec, err = k.Family.Open(c, k, cfg); err != nil {
		return nil, err
	}
	if l.Network == nil {
		return l, nil
	}
	// The initial values are overwritten by the weights: any seed will do.
	l.Params = graph.NewParams(tensor.Float32, 1)
	if err := graph.Materialize(l.Network.Build, l.Params); err != nil {
		return nil, fmt.Errorf("%s: %w", meta, err)
	}
	if err := checkpoint.LoadWeights(l.Params, c.Weights, weights); err != nil {
		return nil, err
	}
	for name, q := range int8s {
		if quant.Tensors[name] != "embedding" { // embeddings are gathered dequantized
			l.Params.SetQuantized(name, q)
		}
	}
	return l, nil
}

// Open reads the checkpoint at path (checkpoint.Open: a checkpoint folder,
// a run folder's pick, or a .safetensors file) and decodes it.
func Open(path string, pick checkpoint.Pick) (*Loaded, error) {
	c, err := checkpoint.Open(path, pick)
	if err != nil {
		return nil, err
	}
	return Decode(c)
}

// Import reads a .safetensors file of one of the registered kinds — as
// tapeml export or PyTorch's save_file wrote it; its kind, configuration
// and preprocessing from its metadata or from like, a checkpoint of the
// same model — checks that its weights fit the model, and returns it as a
// weights-only checkpoint, not yet saved, with its weights in the model's
// state_dict order. An int8 file is decoded whole (Decode).
func Import(path string, like *checkpoint.Checkpoint) (*checkpoint.Checkpoint, error) {
	c, err := checkpoint.ReadSafetensors(path, like)
	if err != nil {
		return nil, err
	}
	from := path + " __metadata__"
	if like != nil {
		from = like.Dir
	}
	k, cfg, err := Describe(c.Meta.ModelKind, c.Meta.ModelConfig, from)
	if err != nil {
		return nil, err
	}
	net, err := cfg.Network()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	if net == nil {
		return nil, fmt.Errorf("%s is a %s: import covers networks", from, Name(k, cfg))
	}
	if _, int8 := c.Extra[checkpoint.QuantizationFile]; int8 {
		if _, err := Decode(c); err != nil {
			return nil, err
		}
		c.Source = ""
		return c, nil
	}
	// Compare shapes before allocating: the configuration may come from
	// the file.
	if err := checkpoint.CheckBuild(net.Build, c.Weights, path); err != nil {
		return nil, err
	}
	params := graph.NewParams(tensor.Float32, 0)
	if err := graph.Materialize(net.Build, params); err != nil {
		return nil, fmt.Errorf("%s: building the model: %w", from, err)
	}
	if err := checkpoint.LoadWeights(params, c.Weights, path); err != nil {
		return nil, err
	}
	c.Weights = checkpoint.Weights(params)
	c.Source = ""
	return c, nil
}
