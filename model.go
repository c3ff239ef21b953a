package tapeml

import (
	"context"
	"fmt"
	"runtime"
	"slices"

	"github.com/tapeml/tapeml/api"
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/internal/core"
	"github.com/tapeml/tapeml/kinds"
)

// Options tunes a loaded model's runtime. The zero value means the
// defaults.
type Options struct {
	// MaxBatch is the largest batch run at once; longer requests are split.
	// Batch sizes are bucketed to powers of two up to it. Default 32.
	MaxBatch int
	// MachinesPerBucket caps the compiled machines kept per batch bucket,
	// hence how many calls of one size run at once. Default GOMAXPROCS.
	MachinesPerBucket int
}

func (o Options) withDefaults() Options {
	if o.MaxBatch == 0 {
		o.MaxBatch = 32
	}
	if o.MachinesPerBucket == 0 {
		o.MachinesPerBucket = runtime.GOMAXPROCS(0)
	}
	return o
}

// Model is a trained model ready to predict. It is safe for concurrent use
// by any number of goroutines.
type Model struct{ c *core.Model }

func init() {
	core.Unwrap = func(m any) *core.Model { return m.(*Model).c }
	core.Wrap = func(c *core.Model) any { return &Model{c: c} }
}

// Prediction is a classifier's answer for one input.
type Prediction = api.Prediction

// Recommendation is one recommended item.
type Recommendation = api.Recommendation

// RecommendRequest asks a recommender for one user's list.
type RecommendRequest = api.RecommendRequest

// Recommendations is a recommender's answer: the items and what ranks
// them.
type Recommendations = api.Recommendations

// UserItem is a (user, item) pair of raw ids.
type UserItem = api.UserItem

// Load opens a trained model: a checkpoint folder, a run folder (its best
// checkpoint), or a .safetensors file exported with tapeml metadata
// (tapeml export). The model's kind must be linked into the program: the
// built-in kinds are, by importing github.com/tapeml/tapeml/models/all.
func Load(path string) (*Model, error) { return LoadWithOptions(path, Options{}) }

// LoadWithOptions is Load with runtime options.
func LoadWithOptions(path string, opt Options) (*Model, error) {
	opt = opt.withDefaults()
	if opt.MaxBatch < 1 || opt.MachinesPerBucket < 1 {
		return nil, fmt.Errorf("tapeml: Options %+v: MaxBatch and MachinesPerBucket must be positive", opt)
	}
	if path == "" {
		return nil, fmt.Errorf("tapeml: Load: empty path")
	}
	c, err := checkpoint.Open(path, checkpoint.PickBest)
	if err != nil {
		return nil, fmt.Errorf("tapeml: Load: %w", err)
	}
	l, err := kinds.Decode(c)
	if err != nil {
		return nil, err
	}
	m := &Model{c: &core.Model{Loaded: l, Path: path}}
	if l.Network == nil {
		return m, nil
	}
	if m.c.Run, err = core.NewRunner(l.Network.Build, l.Params, opt.MaxBatch, opt.MachinesPerBucket); err != nil {
		return nil, fmt.Errorf("tapeml: %s: %w", path, err)
	}
	return m, nil
}

// Kind is the model kind: "textcnn", "lstm", "convnet" or "recsys".
func (m *Model) Kind() string { return m.c.Loaded.Kind.Name }

// Name names the model as a user knows it: "textcnn", "recsys (mf)".
func (m *Model) Name() string { return m.c.Loaded.Name() }

// Algo is a recommender's algorithm ("mf", "knn", "svd"); "" otherwise.
func (m *Model) Algo() string {
	if a, ok := m.c.Loaded.Config.(interface{ Algo() string }); ok {
		return a.Algo()
	}
	return ""
}

// Family is the model's family: "text", "image" or "recommender".
func (m *Model) Family() string { return m.c.Loaded.Kind.Family.Name() }

// Classes lists a classifier's class names, in label order; nil for
// recommenders.
func (m *Model) Classes() []string { return slices.Clone(m.c.Loaded.Codec.Info().Classes) }

// PositiveClass is the class a binary classifier's logit scores (its
// sigmoid is that class's probability); "" for other models.
func (m *Model) PositiveClass() string {
	info := m.c.Loaded.Codec.Info()
	if info.Positive < 0 {
		return ""
	}
	return info.Classes[info.Positive]
}

// MaxLen is the number of tokens a text model reads per text; 0 for
// other models.
func (m *Model) MaxLen() int {
	if t, ok := m.c.Loaded.Codec.(kinds.TextEncoder); ok {
		return t.MaxLen()
	}
	return 0
}

// Preprocessing summarizes, a line each, what happens to a raw input
// before the network sees it.
func (m *Model) Preprocessing() []string { return m.c.Loaded.Codec.Info().Preprocessing }

// TrainingData lists the files, folders or built-in names the model was
// trained on, as its checkpoint records them.
func (m *Model) TrainingData() []string { return slices.Clone(m.c.Loaded.Codec.Info().Data) }

// Meta is the checkpoint's metadata (meta.json, or an exported file's):
// the run's epoch, best metric, training configuration and privacy
// accounting, for tools that report on a model.
func (m *Model) Meta() checkpoint.Meta { return m.c.Loaded.Checkpoint.Meta }

// Source is where the model was read from: the checkpoint folder (a run
// folder's best), or the .safetensors file.
func (m *Model) Source() string {
	c := m.c.Loaded.Checkpoint
	if c.Dir != "" {
		return c.Dir
	}
	if c.Source != "" {
		return c.Source
	}
	return m.c.Path
}

// Quantized reports whether the model's weights are int8.
func (m *Model) Quantized() bool { return m.c.Loaded.Quantization != nil }

// Inputs describes what Forward takes: each input's name and shape per
// example (token ids [MaxLen]; normalized images [C, H, W]; user and item
// indices [1]). Nil for recommenders that are not networks.
func (m *Model) Inputs() []Tensor {
	if m.c.Run == nil {
		return nil
	}
	var out []Tensor
	for _, t := range m.c.Loaded.Codec.Info().Inputs {
		out = append(out, Tensor{Name: t.Name, Shape: slices.Clone(t.Shape)})
	}
	return out
}

// Tensor names a model input and its shape per example.
type Tensor struct {
	Name  string
	Shape []int
}

// Signature describes the model's raw inputs and outputs, as Infer and a
// server take and give them.
func (m *Model) Signature() api.Signature { return m.c.Loaded.Codec.Signature() }

// Infer answers raw inputs given as Signature describes them — texts,
// encoded or raw images, users and items — with the named outputs: what a
// server does with a request, whatever the kind of model.
func (m *Model) Infer(ctx context.Context, inputs []api.Tensor) ([]api.Tensor, error) {
	if err := checkContext(ctx, "Infer"); err != nil {
		return nil, err
	}
	var net kinds.Net
	if m.c.Run != nil {
		net = m.c.Run
	}
	out, err := m.c.Loaded.Codec.Infer(ctx, net, inputs)
	if err != nil {
		return nil, fmt.Errorf("tapeml: Infer: %w", err)
	}
	return out, nil
}

// Cost is what Infer will take to answer inputs — decoded image pixels,
// answer values — read from the inputs without doing the work, so that a
// server can refuse a request before it starts (zero for models whose
// cost is their number of examples). Inputs it cannot read are an
// api.InputError.
func (m *Model) Cost(inputs []api.Tensor) (api.Cost, error) {
	c, ok := m.c.Loaded.Codec.(kinds.Coster)
	if !ok {
		return api.Cost{}, nil
	}
	return c.Cost(inputs)
}

// Forward runs the serving graph on n examples given as raw model inputs —
// one flat slice of n·width values per input, as Inputs describes them —
// and returns the outputs: n·width values of logits (classifiers) or
// predicted ratings (matrix factorization).
func (m *Model) Forward(ctx context.Context, inputs [][]float32, n int) ([]float32, error) {
	if err := checkContext(ctx, "Forward"); err != nil {
		return nil, err
	}
	if m.c.Run == nil {
		return nil, m.wrongKind("Forward", "a network")
	}
	if n < 1 {
		return nil, fmt.Errorf("tapeml: Forward: %d examples", n)
	}
	return m.c.Run.Forward(ctx, inputs, n)
}

// OutputWidth is the number of outputs per example of Forward.
func (m *Model) OutputWidth() int {
	if m.c.Run == nil {
		return 0
	}
	return m.c.Run.OutputWidth()
}

// Warmup compiles and runs every batch bucket once, so that the first
// requests of each size meet no compilation (a server calls it before it
// reports ready).
func (m *Model) Warmup(ctx context.Context) error { return m.WarmupConcurrent(ctx, 1) }

// WarmupConcurrent is Warmup for k concurrent callers: it compiles and
// runs min(k, MachinesPerBucket) machines of every batch bucket, so that
// k calls at once, of any size, meet no compilation — a server running k
// batches at a time calls it before it reports a model ready. Call it
// before the model is shared: it holds the machines it warms.
func (m *Model) WarmupConcurrent(ctx context.Context, k int) error {
	if err := checkContext(ctx, "WarmupConcurrent"); err != nil {
		return err
	}
	if m.c.Run == nil {
		return nil
	}
	if k < 1 {
		return fmt.Errorf("tapeml: WarmupConcurrent: %d callers", k)
	}
	if err := m.c.Run.Warm(ctx, k); err != nil {
		return fmt.Errorf("tapeml: %w", err)
	}
	return nil
}

// CompiledMachines is how many serving machines exist: bounded by the
// number of batch buckets times Options.MachinesPerBucket.
func (m *Model) CompiledMachines() int {
	if m.c.Run == nil {
		return 0
	}
	return m.c.Run.Compiled()
}

// checkContext refuses a nil context, which would panic at the first
// check of cancellation.
func checkContext(ctx context.Context, method string) error {
	if ctx == nil {
		return fmt.Errorf("tapeml: %s: nil context (pass context.Background())", method)
	}
	return nil
}

// wrongKind is the error of a method called on a model of another family.
func (m *Model) wrongKind(method, want string) error {
	return fmt.Errorf("tapeml: %s needs %s; %s is a %s model", method, want, m.c.Path, m.c.Loaded.Name())
}
