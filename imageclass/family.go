package imageclass

import (
	"encoding/json"
	"fmt"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/imagedata"
	"github.com/tapeml/tapeml/kinds"
)

// Family is the image family. Image kinds register with it.
var Family kinds.Family = family{}

type family struct{}

func (family) Name() string { return "image" }

// Arch is what an image kind's configuration tells its preprocessing: the
// input size and the number of classes.
type Arch interface {
	kinds.Config
	InputShape() (channels, height, width int)
	NumClasses() int
}

// Source says where an image run's data came from, so evaluation finds
// the same test split again.
type Source struct {
	Path   string           `json:"path"` // a folder, or a built-in name (dataset.BuiltinPrefix)
	Format imagedata.Format `json:"format,omitempty"`
	Seed   uint64           `json:"seed"`
}

// Load reads the image set.
func (s Source) Load() (*imagedata.Set, error) {
	if s.Path == "" {
		return nil, fmt.Errorf("no data: give a folder")
	}
	return imagedata.Load(s.Path, imagedata.Options{Format: s.Format, Seed: s.Seed})
}

// Run is an image checkpoint's model_config.
type Run struct {
	Model json.RawMessage `json:"model"`
	Data  Source          `json:"data"`
}

// Preprocessing is an image checkpoint's preprocessing: the evaluation
// pipeline (so prediction preprocesses as evaluation did), the class
// names, and the training augmentation (so a resumed run augments as the
// original did).
type Preprocessing struct {
	Pipeline imagedata.Pipeline  `json:"pipeline"`
	Classes  []string            `json:"classes"`
	Augment  []imagedata.Augment `json:"augment,omitempty"`
}

// Open reads an image checkpoint's run and preprocessing and checks them
// against the architecture.
func (family) Open(c *checkpoint.Checkpoint, k *kinds.Kind, cfg kinds.Config) (kinds.Codec, error) {
	meta := c.MetaName()
	arch, ok := cfg.(Arch)
	if !ok {
		return nil, fmt.Errorf("%s: kind %s is in the image family but its configuration has no input shape and classes", meta, k.Name)
	}
	m := &Codec{}
	var run struct {
		Model json.RawMessage `json:"model"`
		Data  Source          `json:"data"`
	}
	if err := kinds.StrictJSON(c.Meta.ModelConfig, &run); err != nil {
		return nil, fmt.Errorf("%s: model_config: %w", meta, err)
	}
	m.run = Run(run)
	if err := json.Unmarshal(c.Meta.Preprocessing, &m.pre); err != nil {
		return nil, fmt.Errorf("%s: preprocessing: %w", meta, err)
	}
	p := m.pre.Pipeline
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("%s: preprocessing: %w", meta, err)
	}
	ch, h, w := arch.InputShape()
	switch {
	case len(m.pre.Classes) != arch.NumClasses():
		return nil, fmt.Errorf("%s: %d class names for a %d-class model", meta, len(m.pre.Classes), arch.NumClasses())
	case p.Channels != ch || p.Height != h || p.Width != w:
		return nil, fmt.Errorf("%s: preprocessing makes %d×%d×%d images, the model takes %d×%d×%d", meta, p.Channels, p.Height, p.Width, ch, h, w)
	}
	return m, nil
}
