package lstm

import (
	"math"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/graph"
)

func TestConfigValidate(t *testing.T) {
	with := func(edit func(*Config)) Config {
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
		{"smallest", Config{NumWords: 2, EmbedDim: 1, Hidden: 1, Layers: 1, MaxLen: 1}, ""},
		{"unidirectional, no dropout", with(func(c *Config) { c.Bidirectional, c.Dropout = false, 0 }), ""},
		{"zero num_words", with(func(c *Config) { c.NumWords = 0 }), "num_words must be at least 1, got 0"},
		{"num_words 1 leaves only padding", with(func(c *Config) { c.NumWords = 1 }), "num_words must be at least 2"},
		{"negative embed_dim", with(func(c *Config) { c.EmbedDim = -3 }), "embed_dim must be at least 1, got -3"},
		{"zero hidden", with(func(c *Config) { c.Hidden = 0 }), "hidden must be at least 1"},
		{"zero layers", with(func(c *Config) { c.Layers = 0 }), "layers must be at least 1"},
		{"zero maxlen", with(func(c *Config) { c.MaxLen = 0 }), "maxlen must be at least 1"},
		{"dropout 1", with(func(c *Config) { c.Dropout = 1 }), "dropout must be in [0, 1), got 1"},
		{"negative dropout", with(func(c *Config) { c.Dropout = -0.1 }), "dropout must be in [0, 1), got -0.1"},
		{"NaN dropout", with(func(c *Config) { c.Dropout = math.NaN() }), "dropout must be in [0, 1), got NaN"},
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

// smallConfig is the reference architecture scaled down so tests run fast.
func smallConfig() Config {
	return Config{NumWords: 50, EmbedDim: 6, Hidden: 5, Layers: 2, Bidirectional: true, Dropout: 0.5, MaxLen: 9}
}

// Every text gets one finite logit, in the training and the inference
// machine; a text with no known word (all padding) gets exactly fc.bias,
// since its final states are zero, in both.
func TestOutputs(t *testing.T) {
	for _, bidirectional := range []bool{true, false} {
		cfg := smallConfig()
		cfg.Bidirectional = bidirectional
		model, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		params := graph.NewParams(tensor.Float32, 1)
		prog := graph.NewProgram(model.Build, model.Loss, params, &graph.Noise{Seed: 3})
		const n = 4
		ids := []float32{
			0, 0, 0, 0, 3, 17, 4, 9, 22, // pre-padded
			0, 0, 0, 0, 0, 0, 0, 0, 0, // empty text
			5, 1, 49, 2, 8, 13, 21, 34, 7, // no padding
			0, 0, 0, 0, 0, 0, 0, 0, 30, // one token
		}
		labels := []float32{1, 0, 1, 0}
		for _, mode := range []graph.Mode{graph.Train, graph.Eval} {
			m, err := prog.Machine(n, mode)
			if err != nil {
				t.Fatal(err)
			}
			x := tensor.New(tensor.WithShape(n, cfg.MaxLen), tensor.WithBacking(slices.Clone(ids)))
			y := tensor.New(tensor.WithShape(n), tensor.WithBacking(slices.Clone(labels)))
			if err := m.Run([]*tensor.Dense{x}, y); err != nil {
				t.Fatalf("bidirectional=%v, %v: %v", bidirectional, mode, err)
			}
			if got, want := m.Output().Shape(), (tensor.Shape{n, 1}); !got.Eq(want) {
				t.Fatalf("output shape %v, want %v", got, want)
			}
			out := m.Output().Float32s()
			for i, v := range out {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Errorf("bidirectional=%v, %v: logit %d is %v", bidirectional, mode, i, v)
				}
			}
			if bias := params.Get("fc.bias").Value.Float32s()[0]; out[1] != bias {
				t.Errorf("bidirectional=%v, %v: the empty text's logit is %v, want fc.bias %v", bidirectional, mode, out[1], bias)
			}
			if l := m.Loss(); !(l > 0) || math.IsInf(l, 0) {
				t.Errorf("bidirectional=%v, %v: loss %v, want a positive finite value", bidirectional, mode, l)
			}
		}
	}
}

// Training is reproducible: the same seeds give the same dropout masks and
// so the same loss and gradients, and another step draws other masks.
func TestTrainingIsDeterministic(t *testing.T) {
	model, err := New(smallConfig())
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]float32, 3*9)
	for i := range ids {
		ids[i] = float32((i * 7) % 50)
	}
	run := func(step uint64) (float64, []float32) {
		params := graph.NewParams(tensor.Float32, 1)
		prog := graph.NewProgram(model.Build, model.Loss, params, &graph.Noise{Seed: 5, Step: step})
		m, err := prog.Machine(3, graph.Train)
		if err != nil {
			t.Fatal(err)
		}
		x := tensor.New(tensor.WithShape(3, 9), tensor.WithBacking(slices.Clone(ids)))
		y := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float32{1, 0, 1}))
		if err := m.Run([]*tensor.Dense{x}, y); err != nil {
			t.Fatal(err)
		}
		var g []float32
		for _, gr := range m.Gradients() {
			g = append(g, gr.Grad.Float32s()...)
		}
		return m.Loss(), g
	}
	l1, g1 := run(0)
	l2, g2 := run(0)
	l3, _ := run(1)
	if l1 != l2 || !slices.Equal(g1, g2) {
		t.Fatalf("the same seed and step gave losses %v and %v (or different gradients)", l1, l2)
	}
	if l1 == l3 {
		t.Fatalf("steps 0 and 1 gave the same loss %v: dropout masks do not change", l1)
	}
}

// The parameters are PyTorch's RNN state_dict (tools/pytorch/models.py),
// names, shapes and order, so checkpoints load into PyTorch as they are.
func TestParamNamesAndShapes(t *testing.T) {
	model, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	params := graph.NewParams(tensor.Float32, 1)
	if err := graph.Materialize(model.Build, params); err != nil {
		t.Fatal(err)
	}
	type param struct {
		name  string
		shape []int
	}
	want := []param{{"embedding.weight", []int{25000, 100}}}
	for l, in := range []int{100, 512} {
		for _, suffix := range []string{"", "_reverse"} {
			s := "_l" + string(rune('0'+l)) + suffix
			want = append(want,
				param{"rnn.weight_ih" + s, []int{1024, in}}, param{"rnn.weight_hh" + s, []int{1024, 256}},
				param{"rnn.bias_ih" + s, []int{1024}}, param{"rnn.bias_hh" + s, []int{1024}})
		}
	}
	want = append(want, param{"fc.weight", []int{1, 512}}, param{"fc.bias", []int{1}})
	list := params.List()
	if len(list) != len(want) {
		t.Fatalf("%d parameters, want %d", len(list), len(want))
	}
	for i, p := range list {
		if p.Name != want[i].name || !slices.Equal(p.Shape(), want[i].shape) || !p.Trainable {
			t.Errorf("parameter %d: %s %v trainable=%v, want %s %v trainable", i, p.Name, p.Shape(), p.Trainable, want[i].name, want[i].shape)
		}
	}
	if row := params.Get("embedding.weight").Value.Float32s()[:100]; slices.ContainsFunc(row, func(v float32) bool { return v != 0 }) {
		t.Error("the padding id's embedding row is not zero")
	}
}
