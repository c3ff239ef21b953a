package textcnn

import (
	"math"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/train"
)

func TestConfigValidate(t *testing.T) {
	with := func(edit func(*Config)) Config {
		c := SeedConfig()
		edit(&c)
		return c
	}
	kim := func(edit func(*Config)) Config {
		c := DefaultConfig()
		edit(&c)
		return c
	}
	cases := []struct {
		name string
		cfg  Config
		want string // substring of the error; "" means valid
	}{
		{"default", DefaultConfig(), ""},
		{"seed", SeedConfig(), ""},
		{"legacy seed", with(func(c *Config) { c.Arch = "" }), ""},
		{"kim, 5 classes", kim(func(c *Config) { c.Classes = 5 }), ""},
		{"kim, one width", kim(func(c *Config) { c.Widths = []int{2} }), ""},
		{"kim maxlen 1", kim(func(c *Config) { c.MaxLen = 1 }), ""},
		{"unknown arch", kim(func(c *Config) { c.Arch = "resnet" }), `arch "resnet": want kim or seed`},
		{"kim with a kernel", kim(func(c *Config) { c.Kernel = 5 }), "kernel and pool belong to the seed architecture"},
		{"seed with widths", with(func(c *Config) { c.Widths = []int{3} }), "widths, dropout and norm belong to the kim architecture"},
		{"kim without widths", kim(func(c *Config) { c.Widths = nil }), "want 1 to 16 convolution widths, got 0"},
		{"kim width 0", kim(func(c *Config) { c.Widths = []int{3, 0} }), "width 0 outside [1, 1024]"},
		{"kim dropout 1", kim(func(c *Config) { c.Dropout = 1 }), "dropout must be in [0, 1)"},
		{"one class", kim(func(c *Config) { c.Classes = 1 }), "classes 1: want 2 to"},
		{"weights for 2 classes, 3 classes", kim(func(c *Config) { c.Classes, c.ClassWeights = 3, []float64{1, 2} }), "2 weights for 3 classes"},
		{"negative weight", kim(func(c *Config) { c.ClassWeights = []float64{1, -2} }), "class_weights[1] is -2"},
		{"smallest", Config{Arch: Seed, NumWords: 2, EmbedDim: 1, Filters: 1, Kernel: 1, Pool: 1, MaxLen: 1}, ""},
		{"maxlen exactly kernel+pool-1", with(func(c *Config) { c.MaxLen = 9 }), ""},
		{"zero num_words", with(func(c *Config) { c.NumWords = 0 }), "num_words must be at least 1, got 0"},
		{"num_words 1 leaves only padding", with(func(c *Config) { c.NumWords = 1 }), "num_words must be at least 2"},
		{"negative embed_dim", with(func(c *Config) { c.EmbedDim = -3 }), "embed_dim must be at least 1, got -3"},
		{"zero filters", with(func(c *Config) { c.Filters = 0 }), "filters must be at least 1"},
		{"zero kernel", with(func(c *Config) { c.Kernel = 0 }), "kernel must be at least 1"},
		{"zero pool", with(func(c *Config) { c.Pool = 0 }), "pool must be at least 1"},
		{"zero maxlen", with(func(c *Config) { c.MaxLen = 0 }), "maxlen must be at least 1"},
		{"maxlen shorter than kernel+pool-1", with(func(c *Config) { c.MaxLen = 8 }), "maxlen 8 is too short for kernel 5 and pool 5"},
		{"kernel longer than maxlen", Config{Arch: Seed, NumWords: 10, EmbedDim: 4, Filters: 2, Kernel: 7, Pool: 1, MaxLen: 6}, "maxlen 6 is too short for kernel 7"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.Validate()
			if c.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate error %v, want one containing %q", err, c.want)
			}
			if _, err := New(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("New error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// The default model gives one finite logit per text, for a single text and
// for a batch, in both the training and the inference machine.
func TestOutputShape(t *testing.T) {
	three := DefaultConfig()
	three.Classes, three.ClassWeights = 3, []float64{1, 2, 0.5}
	for _, cfg := range []Config{DefaultConfig(), SeedConfig(), three} {
		outputShape(t, cfg)
	}
}

func outputShape(t *testing.T, cfg Config) {
	model, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	prog := graph.NewProgram(model.Build, model.Loss, graph.NewParams(tensor.Float32, 1), nil)
	maxLen, vocab, width := model.Config.MaxLen, model.Config.NumWords, model.Config.Width()
	for _, n := range []int{1, 7} {
		ids := make([]float32, n*maxLen)
		for i := range ids {
			ids[i] = float32((i * 7919) % vocab) // includes 0, the padding id
		}
		labels := make([]float32, n)
		for i := range labels {
			labels[i] = float32(i % cfg.NumClasses())
		}
		for _, mode := range []graph.Mode{graph.Train, graph.Eval} {
			m, err := prog.Machine(n, mode)
			if err != nil {
				t.Fatal(err)
			}
			x := tensor.New(tensor.WithShape(n, maxLen), tensor.WithBacking(slices.Clone(ids)))
			y := tensor.New(tensor.WithShape(n), tensor.WithBacking(slices.Clone(labels)))
			if err := m.Run([]*tensor.Dense{x}, y); err != nil {
				t.Fatalf("batch %d, %v: %v", n, mode, err)
			}
			if got, want := m.Output().Shape(), (tensor.Shape{n, width}); !got.Eq(want) {
				t.Errorf("batch %d, %v: output shape %v, want %v", n, mode, got, want)
			}
			for i, v := range m.Output().Float32s() {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Errorf("batch %d, %v: logit %d is %v", n, mode, i, v)
				}
			}
			if l := m.Loss(); !(l > 0) || math.IsInf(l, 0) {
				t.Errorf("batch %d, %v: loss %v, want a positive finite value", n, mode, l)
			}
		}
	}
}

// The parameters are PyTorch's TextCNN state_dict (tools/pytorch/models.py),
// names, shapes and order, so checkpoints load into PyTorch as they are.
func TestParamNamesAndShapes(t *testing.T) {
	model, err := New(SeedConfig())
	if err != nil {
		t.Fatal(err)
	}
	params := graph.NewParams(tensor.Float32, 1)
	if err := graph.Materialize(model.Build, params); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name  string
		shape []int
	}{
		{"embedding.weight", []int{10000, 64}},
		{"conv.weight", []int{64, 64, 5}},
		{"conv.bias", []int{64}},
		{"fc.weight", []int{1, 1216}}, // 64 filters × (100−5+1)/5 = 19 steps
		{"fc.bias", []int{1}},
	}
	list := params.List()
	if len(list) != len(want) {
		t.Fatalf("%d parameters, want %d", len(list), len(want))
	}
	for i, p := range list {
		if p.Name != want[i].name || !slices.Equal(p.Shape(), want[i].shape) || !p.Trainable {
			t.Errorf("parameter %d: %s %v trainable=%v, want %s %v trainable", i, p.Name, p.Shape(), p.Trainable, want[i].name, want[i].shape)
		}
	}
	if got, want := params.Count(), 10000*64+64*64*5+64+1216+1; got != want {
		t.Errorf("Count %d, want %d", got, want)
	}
}

// TestForDP: a DP-SGD run of the Kim preset layer-normalizes the pooled
// features and drops the dropout unless the caller gave them; the seed
// architecture keeps its own.
func TestForDP(t *testing.T) {
	none := func(train.Field) bool { return false }
	cfg, changed := DefaultConfig().ForDP(none)
	got := *cfg.(*Config)
	if got.Norm != NormLayer || got.Dropout != 0 || len(changed) != 2 {
		t.Fatalf("ForDP of the default: norm %q, dropout %v, changed %v; want layer, 0 and both named", got.Norm, got.Dropout, changed)
	}
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
	given := func(k train.Field) bool { return k == "dropout" || k == "norm" }
	user := DefaultConfig()
	user.Dropout, user.Norm = 0.3, NormNone
	cfg, changed = user.ForDP(given)
	if got := *cfg.(*Config); got.Norm != NormNone || got.Dropout != 0.3 || len(changed) != 0 {
		t.Fatalf("ForDP changed what the caller gave: norm %q, dropout %v, changed %v", got.Norm, got.Dropout, changed)
	}
	if cfg, changed = SeedConfig().ForDP(none); len(changed) != 0 || cfg.(*Config).Norm != "" {
		t.Fatalf("ForDP changed the seed architecture: %v", changed)
	}
	for _, bad := range []Config{
		func() Config { c := DefaultConfig(); c.Norm = "batch"; return c }(),
		func() Config { c := SeedConfig(); c.Norm = NormLayer; return c }(),
	} {
		if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "norm") {
			t.Errorf("norm %q on %s: error %v, want one naming norm", bad.Norm, bad.archName(), err)
		}
	}
}
