package kinds

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/models/mf"
	"github.com/tapeml/tapeml/recsys"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/text"
	"github.com/tapeml/tapeml/train"
)

// Loaded is a checkpoint ready to use: its architecture, its network with
// the saved weights, and its family's run format and preprocessing.
// Exactly one of Text, Image and Recsys is set.
type Loaded struct {
	Checkpoint *checkpoint.Checkpoint
	Spec       *Spec
	Network    train.Model   // nil for recommenders that are not networks
	Params     *graph.Params // the weights, float32; nil with Network
	Training   train.Config  // as saved (zero for weights-only checkpoints)

	// Quantization describes an int8 checkpoint (nil for float32 ones),
	// whose Checkpoint holds the dequantized weights and Int8 the int8
	// forms by weight name (quantized.go).
	Quantization *Quantization
	Int8         map[string]*graph.QuantWeight

	Text   *TextModel
	Image  *ImageModel
	Recsys *RecsysModel
}

// TextModel is a text checkpoint's run and preprocessing.
type TextModel struct {
	Run TextRun
	Pre *text.Preprocess
}

// ImageModel is an image checkpoint's run and preprocessing.
type ImageModel struct {
	Run ImageRun
	Pre ImagePreprocessing
}

// RecsysModel is a recommender checkpoint's run, id maps, training
// ratings and the recommender built on them.
type RecsysModel struct {
	Run         RecsysRun
	IDs         RecsysIDs
	Train       *recsys.Matrix
	Recommender recsys.Recommender
	Items       map[string]recsys.Item // raw item id → title; nil without a catalog
}

// OpenPath resolves a checkpoint or run folder (taking pick of a run) and
// opens it.
func OpenPath(path string, pick checkpoint.Pick) (*Loaded, error) {
	if path == "" {
		return nil, fmt.Errorf("--checkpoint is required")
	}
	c, err := checkpoint.Open(path, pick)
	if err != nil {
		return nil, err
	}
	return Open(c)
}

// Open rebuilds a checkpoint's model. Its configuration is checked against
// its preprocessing and, before any parameter is allocated, against the
// shapes of its weights, so that a few bytes of hostile JSON cannot ask
// for gigabytes; each mismatch names the field or tensor.
func Open(c *checkpoint.Checkpoint) (*Loaded, error) {
	meta := filepath.Join(c.Dir, checkpoint.MetaFile)
	if c.Dir == "" {
		meta = "checkpoint"
	}
	spec, err := Describe(c.Meta.ModelKind, c.Meta.ModelConfig, meta)
	if err != nil {
		return nil, err
	}
	c, quant, int8s, err := openQuantized(c)
	if err != nil {
		return nil, err
	}
	l := &Loaded{Checkpoint: c, Spec: spec, Quantization: quant, Int8: int8s}
	if l.Training, err = train.ConfigOf(c); err != nil {
		return nil, err
	}
	switch spec.Kind.Family {
	case Text:
		err = l.openText(meta)
	case Image:
		err = l.openImage(meta)
	case Recommender:
		err = l.openRecsys(meta)
	default:
		err = fmt.Errorf("%s: kind %s has no family", meta, spec.Kind.Name)
	}
	if err != nil {
		return nil, err
	}
	if spec.Arch == nil {
		return l, nil
	}
	if l.Network, err = spec.Network(); err != nil {
		return nil, fmt.Errorf("%s: %w", meta, err)
	}
	weights := filepath.Join(c.Dir, checkpoint.WeightsFile)
	if err := train.CheckModelShapes(l.Network, c.Weights, weights); err != nil {
		return nil, err
	}
	l.Params = graph.NewParams(tensor.Float32, l.Training.Defaults().Seed)
	if err := graph.Materialize(l.Network.Build, l.Params); err != nil {
		return nil, fmt.Errorf("%s: %w", meta, err)
	}
	if err := train.LoadWeights(l.Params, c.Weights, weights); err != nil {
		return nil, err
	}
	for name, q := range l.Int8 {
		if quant.Tensors[name] != "embedding" { // embeddings are gathered dequantized
			l.Params.SetQuantized(name, q)
		}
	}
	if l.Recsys != nil && spec.Algo == "mf" {
		if l.Recsys.Recommender, err = mf.NewRecommender(c.Weights, *l.Recsys.Run.MF, l.Recsys.Train); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func (l *Loaded) openText(meta string) error {
	c, arch := l.Checkpoint, l.Spec.Arch.(TextArch)
	t := &TextModel{}
	if err := json.Unmarshal(c.Meta.ModelConfig, &t.Run); err != nil {
		return fmt.Errorf("%s: model_config: %w", meta, err)
	}
	t.Pre = &text.Preprocess{}
	if err := json.Unmarshal(c.Meta.Preprocessing, t.Pre); err != nil || t.Pre.Tokenizer == nil {
		return fmt.Errorf("%s: preprocessing: missing or invalid tokenizer state (%v)", meta, err)
	}
	if err := t.Pre.Validate(arch.Vocab(), arch.SeqLen()); err != nil {
		return fmt.Errorf("%s: %w", meta, err)
	}
	l.Text = t
	return nil
}

func (l *Loaded) openImage(meta string) error {
	c := l.Checkpoint
	im := &ImageModel{}
	if err := StrictJSON(c.Meta.ModelConfig, &im.Run); err != nil {
		return fmt.Errorf("%s: model_config: %w", meta, err)
	}
	if err := json.Unmarshal(c.Meta.Preprocessing, &im.Pre); err != nil {
		return fmt.Errorf("%s: preprocessing: %w", meta, err)
	}
	p, m := im.Pre.Pipeline, im.Run.Model
	if err := p.Validate(); err != nil {
		return fmt.Errorf("%s: preprocessing: %w", meta, err)
	}
	switch {
	case len(im.Pre.Classes) != m.Classes:
		return fmt.Errorf("%s: %d class names for a %d-class model", meta, len(im.Pre.Classes), m.Classes)
	case p.Channels != m.Channels || p.Height != m.Height || p.Width != m.Width:
		return fmt.Errorf("%s: preprocessing makes %d×%d×%d images, the model takes %d×%d×%d", meta, p.Channels, p.Height, p.Width, m.Channels, m.Height, m.Width)
	}
	l.Image = im
	return nil
}

func (l *Loaded) openRecsys(meta string) error {
	c := l.Checkpoint
	r := &RecsysModel{}
	if err := StrictJSON(c.Meta.ModelConfig, &r.Run); err != nil {
		return fmt.Errorf("%s: model_config: %w", meta, err)
	}
	if err := json.Unmarshal(c.Meta.Preprocessing, &r.IDs); err != nil || r.IDs.Users == nil || r.IDs.Items == nil {
		return fmt.Errorf("%s: preprocessing: missing or invalid id maps (%v)", meta, err)
	}
	users, items := r.IDs.Users.Len(), r.IDs.Items.Len()
	if m := r.Run.MF; m != nil && (m.Users != users || m.Items != items) {
		return fmt.Errorf("%s: the id maps hold %d users and %d items, the model %d and %d", meta, users, items, m.Users, m.Items)
	}
	raw, ok := c.Extra[TrainRatingsFile]
	if !ok {
		return fmt.Errorf("%s: no %s", c.Dir, TrainRatingsFile)
	}
	from := filepath.Join(c.Dir, TrainRatingsFile)
	f, err := safetensors.Read(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		return fmt.Errorf("%s: %w", from, err)
	}
	rs, err := recsys.RatingsFromTensors(f.Tensors, users, items, r.Run.Scale, from)
	if err != nil {
		return err
	}
	if r.Train, err = recsys.NewMatrix(rs, users, items); err != nil {
		return err
	}
	if b, ok := c.Extra[ItemsFile]; ok {
		if err := json.Unmarshal(b, &r.Items); err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(c.Dir, ItemsFile), err)
		}
	}
	weights := filepath.Join(c.Dir, checkpoint.WeightsFile)
	switch {
	case r.Run.Algo == "mf" && r.Run.MF != nil:
		// Built by Open once the weights are checked.
	case r.Run.Algo == "knn" && r.Run.KNN != nil:
		r.Recommender, err = recsys.LoadKNN(r.Train, r.Run.Scale, *r.Run.KNN, c.Weights, weights)
	case r.Run.Algo == "svd" && r.Run.SVD != nil:
		r.Recommender, err = recsys.LoadSVD(r.Train, r.Run.Scale, *r.Run.SVD, c.Weights, weights)
	default:
		return fmt.Errorf("%s: unknown algorithm %q or its configuration is missing", meta, r.Run.Algo)
	}
	if err != nil {
		return err
	}
	l.Recsys = r
	return nil
}

// Remap re-expresses ratings read from a data file (with d's id maps) in
// the checkpoint's indices; users and items it has never seen become −1
// (unknown), which the recommenders answer with their fallbacks.
func (r *RecsysModel) Remap(d *recsys.Dataset, rs []recsys.Rating) []recsys.Rating {
	out := make([]recsys.Rating, len(rs))
	for k, x := range rs {
		u, ok := r.IDs.Users.Index(d.Users.Raw(int(x.User)))
		if !ok {
			u = -1
		}
		i, ok := r.IDs.Items.Index(d.Items.Raw(int(x.Item)))
		if !ok {
			i = -1
		}
		out[k] = recsys.Rating{User: int32(u), Item: int32(i), Value: x.Value, Time: x.Time}
	}
	return out
}
