package tapeml

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/export"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/train"
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
type Model struct {
	loaded *kinds.Loaded
	run    *runner // nil for recommenders that are not networks
	task   metrics.Task
	path   string

	attrOnce sync.Once // the attribution machines (explain.go), made on first use
	attrs    *attrPool
}

// Load opens a trained model: a checkpoint folder, a run folder (its best
// checkpoint), or a .safetensors file exported with tapeml metadata
// (tapeml export).
func Load(path string) (*Model, error) { return LoadWithOptions(path, Options{}) }

// LoadWithOptions is Load with runtime options.
func LoadWithOptions(path string, opt Options) (*Model, error) {
	opt = opt.withDefaults()
	if opt.MaxBatch < 1 || opt.MachinesPerBucket < 1 {
		return nil, fmt.Errorf("tapeml: Options %+v: MaxBatch and MachinesPerBucket must be positive", opt)
	}
	c, err := openPath(path)
	if err != nil {
		return nil, err
	}
	l, err := kinds.Open(c)
	if err != nil {
		return nil, err
	}
	return newModel(l, path, opt)
}

// openPath reads a checkpoint, whichever form path has.
func openPath(path string) (*checkpoint.Checkpoint, error) {
	if path == "" {
		return nil, fmt.Errorf("tapeml: Load: empty path")
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("tapeml: Load: %w", err)
	}
	if !fi.IsDir() {
		if strings.EqualFold(filepath.Ext(path), ".safetensors") {
			return export.Import(path, nil)
		}
		return nil, fmt.Errorf("tapeml: Load %s: not a checkpoint folder, run folder or .safetensors file", path)
	}
	return checkpoint.Open(path, checkpoint.PickBest)
}

// newModel wraps a loaded checkpoint in the runtime.
func newModel(l *kinds.Loaded, path string, opt Options) (*Model, error) {
	m := &Model{loaded: l, path: path}
	if l.Network == nil {
		return m, nil
	}
	m.task = l.Network.Task()
	var err error
	if m.run, err = newRunner(l.Network.Build, l.Params, opt.MaxBatch, opt.MachinesPerBucket); err != nil {
		return nil, fmt.Errorf("tapeml: %s: %w", path, err)
	}
	return m, nil
}

// Kind is the model kind: "textcnn", "lstm", "convnet" or "recsys".
func (m *Model) Kind() string { return m.loaded.Spec.Kind.Name }

// Algo is a recommender's algorithm ("mf", "knn", "svd"); "" otherwise.
func (m *Model) Algo() string { return m.loaded.Spec.Algo }

// Classes lists a classifier's class names, in label order; nil for
// recommenders.
func (m *Model) Classes() []string {
	switch {
	case m.loaded.Text != nil:
		return append([]string(nil), m.loaded.Text.Pre.Classes...)
	case m.loaded.Image != nil:
		return append([]string(nil), m.loaded.Image.Pre.Classes...)
	}
	return nil
}

// Inputs describes what Forward takes: each input's name and shape per
// example (token ids [MaxLen]; normalized images [C, H, W]; user and item
// indices [1]). Nil for recommenders that are not networks.
func (m *Model) Inputs() []Tensor {
	if m.run == nil {
		return nil
	}
	switch {
	case m.loaded.Text != nil:
		return []Tensor{{Name: "ids", Shape: []int{m.loaded.Text.Pre.MaxLen()}}}
	case m.loaded.Image != nil:
		return []Tensor{{Name: "image", Shape: m.loaded.Image.Pre.Pipeline.Shape()}}
	}
	return []Tensor{{Name: "user", Shape: []int{1}}, {Name: "item", Shape: []int{1}}}
}

// Tensor names a model input and its shape per example.
type Tensor struct {
	Name  string
	Shape []int
}

// Loaded gives the checkpoint as the registry opened it: run format,
// preprocessing and weights, for tools built on the runtime (evaluation,
// explanation, export). Treat it as read-only.
func (m *Model) Loaded() *kinds.Loaded { return m.loaded }

// Task says how to read Forward's outputs.
func (m *Model) Task() metrics.Task { return m.task }

// Forward runs the serving graph on n examples given as raw model inputs —
// one flat slice of n·width values per input, as Inputs describes them —
// and returns the outputs: n·width values of logits (classifiers) or
// predicted ratings (matrix factorization).
func (m *Model) Forward(ctx context.Context, inputs [][]float32, n int) ([]float32, error) {
	if m.run == nil {
		return nil, m.wrongKind("Forward", "a network")
	}
	if n < 1 {
		return nil, fmt.Errorf("tapeml: Forward: %d examples", n)
	}
	return m.run.run(ctx, inputs, n)
}

// OutputWidth is the number of outputs per example of Forward.
func (m *Model) OutputWidth() int {
	if m.run == nil {
		return 0
	}
	return m.run.out
}

// Warmup compiles and runs every batch bucket once, so that the first
// requests of each size meet no compilation (a server calls it before it
// reports ready).
func (m *Model) Warmup(ctx context.Context) error {
	if m.run == nil {
		return nil
	}
	for i, n := range m.run.buckets {
		if err := ctx.Err(); err != nil {
			return err
		}
		sm, err := m.run.get(ctx, i)
		if err != nil {
			return err
		}
		for _, t := range sm.in {
			clear(t.Float32s())
		}
		err = sm.m.Run(sm.in, nil)
		m.run.put(i, sm)
		if err != nil {
			return fmt.Errorf("tapeml: warming up batch %d: %w", n, err)
		}
	}
	return nil
}

// CompiledMachines is how many serving machines exist: bounded by the
// number of batch buckets times Options.MachinesPerBucket.
func (m *Model) CompiledMachines() int {
	if m.run == nil {
		return 0
	}
	return m.run.compiled()
}

// wrongKind is the error of a method called on a model of another family.
func (m *Model) wrongKind(method, want string) error {
	return fmt.Errorf("tapeml: %s needs %s; %s is a %s model", method, want, m.path, m.loaded.Spec)
}

// Training returns the training configuration saved with the model.
func (m *Model) Training() train.Config { return m.loaded.Training }
