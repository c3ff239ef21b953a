package textcnn

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/textclass"
	"github.com/tapeml/tapeml/train"
	"github.com/tapeml/tapeml/train/optim"
)

func init() { kinds.Register(kind) }

var kind = &kinds.Kind{
	Name:    Kind,
	Family:  textclass.Family,
	Order:   0,
	Summary: "convolutions of widths 3/4/5 over word embeddings, max-pooled over the text (Kim 2014); --arch seed: the Keras embedding → Conv1D → max-pool → dense; any number of classes",
	Torch:   "TextCNN",
	Default: func() kinds.Config { c := DefaultConfig(); return &c },
	Decode:  decode,
}

// decode reads a checkpoint's configuration over its preset's defaults: a
// checkpoint written before presets existed has no "arch" and is Seed
// (with the seed's defaults, as it was read then), one before any number
// of classes has no "classes" and is binary.
func decode(modelConfig json.RawMessage) (kinds.Config, error) {
	var run struct {
		Model struct {
			Arch string `json:"arch"`
		} `json:"model"`
	}
	if err := json.Unmarshal(modelConfig, &run); err != nil {
		return nil, err
	}
	c := SeedConfig()
	c.Arch = ""
	if run.Model.Arch != "" && run.Model.Arch != Seed {
		c = DefaultConfig()
	}
	if err := kinds.DecodeModel(modelConfig, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// Network is the TextCNN graph of c.
func (c Config) Network() (kinds.Network, error) { return New(c) }

// Training is the reference training setup: Adam at lr 0.001, batch 32,
// 10 epochs.
func (Config) Training() train.Config {
	return train.Config{Epochs: 10, Batch: 32, LR: 0.001, Seed: 1, Optimizer: optim.Config{Name: optim.Adam}}
}

// TextHead is the configuration's output head.
func (c Config) TextHead() textclass.Head { return c.Head }

// WithHead returns the configuration with head h.
func (c Config) WithHead(h textclass.Head) textclass.Arch {
	c.Head = h
	return c
}

// AddFlags binds the architecture's fields to command-line flags, their
// current values the defaults. --arch switches to a preset's sizes,
// keeping the flags given before it.
func (c *Config) AddFlags(fs *pflag.FlagSet) {
	fs.Var(&archFlag{c: c, fs: fs}, "arch", "architecture preset: kim (several widths, max-pooled over the text) or seed (the Keras model: one width, local pooling, a dense layer over positions); sets the other sizes' defaults")
	fs.IntVar(&c.NumWords, "num-words", c.NumWords, "vocabulary size: the num_words−1 most frequent training words, id 0 is padding")
	fs.IntVar(&c.MaxLen, "maxlen", c.MaxLen, "tokens per text (see --padding and --truncating)")
	fs.IntVar(&c.EmbedDim, "embed-dim", c.EmbedDim, "embedding width")
	fs.IntVar(&c.Filters, "filters", c.Filters, "convolution filters (kim: per width)")
	fs.IntSliceVar(&c.Widths, "widths", c.Widths, "kim: convolution widths")
	fs.Float64Var(&c.Dropout, "dropout", c.Dropout, "kim: dropout before the dense layer (--dp: default 0)")
	fs.StringVar(&c.Norm, "norm", c.Norm, "kim: normalization of the pooled features before the dense layer: layer (LayerNorm) or none (--dp: default layer)")
	fs.IntVar(&c.Kernel, "kernel", c.Kernel, "seed: convolution width (default 5)")
	fs.IntVar(&c.Pool, "pool", c.Pool, "seed: max-pool size (default 5)")
}

// archFlag is --arch: setting it replaces the configuration by the
// preset's, then gives back the values of the flags already given.
type archFlag struct {
	c  *Config
	fs *pflag.FlagSet
}

func (a *archFlag) String() string {
	if a.c == nil {
		return ""
	}
	return a.c.archName()
}

func (a *archFlag) Type() string { return "string" }

func (a *archFlag) Set(v string) error {
	p, ok := a.c.Presets()[v]
	if !ok {
		names := slices.Sorted(func(yield func(string) bool) {
			for k := range a.c.Presets() {
				if !yield(k) {
					return
				}
			}
		})
		return fmt.Errorf("want one of %s", strings.Join(names, ", "))
	}
	given := map[string]string{}
	// Changed is the flag's own: the command line may parse another set
	// holding these flags.
	a.fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed && f.Name != "arch" {
			given[f.Name] = f.Value.String()
		}
	})
	preset := p.(Config)
	preset.Head = a.c.Head
	*a.c = preset
	for name, v := range given {
		f := a.fs.Lookup(name)
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			if err := sv.Replace(strings.Split(strings.Trim(v, "[]"), ",")); err != nil {
				return err
			}
			continue
		}
		if err := f.Value.Set(v); err != nil {
			return err
		}
	}
	return nil
}

// ForDP is the Kim architecture of DP-SGD runs where the caller did not
// say: LayerNorm over the pooled features, and no dropout. The pooled ReLU
// features share a large common part, so every clipped example's vote
// moves all logits the same way and Adam swings the model between the
// classes; centring and scaling each example's features removes it.
// Dropout adds variance that the noise already supplies. The README's DP
// section has the runs that chose them. The seed architecture is kept.
func (c Config) ForDP(given func(train.Field) bool) (kinds.Config, []train.Setting) {
	if c.seed() {
		return &c, nil
	}
	var changed []train.Setting
	if !given("norm") && c.Norm == "" {
		c.Norm = NormLayer
		changed = append(changed, train.Setting{Key: "norm", Value: c.Norm})
	}
	if !given("dropout") && c.Dropout != 0 {
		c.Dropout = 0
		changed = append(changed, train.Setting{Key: "dropout", Value: c.Dropout})
	}
	return &c, changed
}
