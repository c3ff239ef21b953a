package convnet

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/train"
	"github.com/tapeml/tapeml/train/optim"
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
		{"fashion-mnist", with(func(c *Config) { c.Channels, c.Height, c.Width = 1, 28, 28 }), ""},
		{"smallest", Config{Channels: 1, Height: 4, Width: 4, Classes: 2}, ""},
		{"no dropout", with(func(c *Config) { c.Dropout = 0 }), ""},
		{"zero channels", with(func(c *Config) { c.Channels = 0 }), "channels must be at least 1, got 0"},
		{"too short", with(func(c *Config) { c.Height = 3 }), "input 3×32 is too small"},
		{"too narrow", with(func(c *Config) { c.Width = 2 }), "input 32×2 is too small"},
		{"one class", with(func(c *Config) { c.Classes = 1 }), "classes must be at least 2, got 1"},
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

// The first Linear layer follows the input size through two floor-mode
// poolings.
func TestFlatWidth(t *testing.T) {
	cases := []struct {
		channels, height, width, want int
	}{
		{3, 32, 32, 8192}, // the reference: 128·8·8
		{1, 28, 28, 6272}, // Fashion-MNIST: 128·7·7
		{2, 10, 9, 512},   // 10→5→2, 9→4→2
		{1, 4, 7, 128},    // 4→2→1, 7→3→1
	}
	for _, c := range cases {
		cfg := Config{Channels: c.channels, Height: c.height, Width: c.width, Classes: 3}
		if got := cfg.FlatWidth(); got != c.want {
			t.Errorf("%d×%d×%d: FlatWidth %d, want %d", c.channels, c.height, c.width, got, c.want)
		}
		model, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		params := graph.NewParams(tensor.Float32, 1)
		if err := graph.Materialize(model.Build, params); err != nil {
			t.Fatal(err)
		}
		if got := params.Get("fc.0.weight").Shape(); !slices.Equal(got, []int{1024, c.want}) {
			t.Errorf("%d×%d×%d: fc.0.weight %v, want [1024 %d]", c.channels, c.height, c.width, got, c.want)
		}
	}
}

// The state is PyTorch's ConvNet state_dict (tools/pytorch/models.py):
// names, shapes, order, which entries are trainable and which is a counter.
func TestParamNamesAndShapes(t *testing.T) {
	model, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	params := graph.NewParams(tensor.Float32, 1)
	if err := graph.Materialize(model.Build, params); err != nil {
		t.Fatal(err)
	}
	type entry struct {
		name      string
		shape     []int
		trainable bool
	}
	bn := func(layer string, c int) []entry {
		return []entry{
			{layer + ".weight", []int{c}, true}, {layer + ".bias", []int{c}, true},
			{layer + ".running_mean", []int{c}, false}, {layer + ".running_var", []int{c}, false},
			{layer + ".num_batches_tracked", []int{}, false},
		}
	}
	want := []entry{{"layer1.0.weight", []int{64, 3, 3, 3}, true}, {"layer1.0.bias", []int{64}, true}}
	want = append(want, bn("layer1.1", 64)...)
	want = append(want, entry{"layer2.0.weight", []int{128, 64, 3, 3}, true}, entry{"layer2.0.bias", []int{128}, true})
	want = append(want, bn("layer2.1", 128)...)
	want = append(want,
		entry{"fc.0.weight", []int{1024, 8192}, true}, entry{"fc.0.bias", []int{1024}, true},
		entry{"fc.3.weight", []int{512, 1024}, true}, entry{"fc.3.bias", []int{512}, true},
		entry{"fc.6.weight", []int{10, 512}, true}, entry{"fc.6.bias", []int{10}, true})
	list := params.List()
	if len(list) != len(want) {
		t.Fatalf("%d parameters, want %d", len(list), len(want))
	}
	for i, p := range list {
		w := want[i]
		if p.Name != w.name || !slices.Equal(p.Shape(), w.shape) || p.Trainable != w.trainable {
			t.Errorf("parameter %d: %s %v trainable=%v, want %s %v trainable=%v", i, p.Name, p.Shape(), p.Trainable, w.name, w.shape, w.trainable)
		}
		if p.Counter != strings.HasSuffix(w.name, "num_batches_tracked") {
			t.Errorf("%s: Counter=%v", p.Name, p.Counter)
		}
	}
	if got, want := params.Count(), 8995594; got != want { // sum(p.numel() for p in ConvNet().parameters())
		t.Errorf("Count %d, want %d", got, want)
	}
}

func TestTaskAndDefaults(t *testing.T) {
	m, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if m.Task() != metrics.Multiclass || m.Classes() != 10 {
		t.Errorf("task %v with %d classes, want multiclass with 10", m.Task(), m.Classes())
	}
	var _ train.Classifier = m
	tc := DefaultTraining()
	want := train.Config{Epochs: 10, Batch: 32, LR: 0.001, Seed: 1, Optimizer: optim.Config{Name: optim.SGD, Momentum: 0.9}}
	if tc != want {
		t.Errorf("DefaultTraining %+v, want %+v", tc, want)
	}
}

// randomBatch returns n images of cfg's size with values from N(0, 1) and
// labels cycling through the classes.
func randomBatch(cfg Config, n int, seed uint64) (*tensor.Dense, *tensor.Dense) {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n*cfg.Channels*cfg.Height*cfg.Width)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	y := make([]float32, n)
	for i := range y {
		y[i] = float32(i % cfg.Classes)
	}
	return tensor.New(tensor.WithShape(n, cfg.Channels, cfg.Height, cfg.Width), tensor.WithBacking(x)),
		tensor.New(tensor.WithShape(n), tensor.WithBacking(y))
}

// Logits are [n, Classes] and finite, for a single image and a batch, in
// both machines; dropout makes the training output depend on the step's
// noise and nothing else, and leaves the inference output alone.
func TestOutputsAndDropout(t *testing.T) {
	cfg := Config{Channels: 1, Height: 12, Width: 12, Classes: 4, Dropout: 0.5}
	model, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	noise := &graph.Noise{Seed: 3}
	prog := graph.NewProgram(model.Build, model.Loss, graph.NewParams(tensor.Float32, 1), noise)
	run := func(n int, mode graph.Mode, step uint64) []float32 {
		t.Helper()
		m, err := prog.Machine(n, mode)
		if err != nil {
			t.Fatal(err)
		}
		x, y := randomBatch(cfg, n, 5)
		noise.Step = step
		if err := m.Run([]*tensor.Dense{x}, y); err != nil {
			t.Fatalf("batch %d, %v: %v", n, mode, err)
		}
		if got, want := m.Output().Shape(), (tensor.Shape{n, cfg.Classes}); !got.Eq(want) {
			t.Fatalf("batch %d, %v: output shape %v, want %v", n, mode, got, want)
		}
		for i, v := range m.Output().Float32s() {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("batch %d, %v: logit %d is %v", n, mode, i, v)
			}
		}
		if l := m.Loss(); !(l > 0) || math.IsInf(l, 0) {
			t.Fatalf("batch %d, %v: loss %v, want a positive finite value", n, mode, l)
		}
		return slices.Clone(m.Output().Float32s())
	}
	for _, n := range []int{1, 5} {
		a, a2, b := run(n, graph.Train, 1), run(n, graph.Train, 1), run(n, graph.Train, 2)
		if !slices.Equal(a, a2) {
			t.Errorf("batch %d: the same step gave different training outputs", n)
		}
		if slices.Equal(a, b) {
			t.Errorf("batch %d: different steps gave the same training outputs: is dropout off?", n)
		}
		e, e2 := run(n, graph.Eval, 1), run(n, graph.Eval, 2)
		if !slices.Equal(e, e2) {
			t.Errorf("batch %d: the inference output depends on the step", n)
		}
	}
}

// A few epochs of the reference optimizer separate two classes of
// synthetic images (a bright and a dark square in different corners), and
// the batch-norm buffers count every training step.
func TestTrainingLearns(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for a few seconds")
	}
	cfg := Config{Channels: 1, Height: 8, Width: 8, Classes: 2, Dropout: 0.5}
	model, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const n = 64
	rng := rand.New(rand.NewPCG(9, 9))
	images := make([]float32, n*64)
	labels := make([]float32, n)
	for i := 0; i < n; i++ {
		labels[i] = float32(i % 2)
		img := images[i*64 : (i+1)*64]
		for j := range img {
			img[j] = float32(0.3 * rng.NormFloat64())
		}
		corner := 0
		if i%2 == 1 {
			corner = 4*8 + 4
		}
		for r := 0; r < 4; r++ {
			for c := 0; c < 4; c++ {
				img[corner+r*8+c] += 1
			}
		}
	}
	ds, err := dataset.NewTensors([][]float32{images}, [][]int{{1, 8, 8}}, labels, nil)
	if err != nil {
		t.Fatal(err)
	}
	tc := DefaultTraining()
	tc.Epochs, tc.Batch, tc.LR = 6, 16, 0.01
	params := graph.NewParams(tensor.Float32, 1)
	tr, err := train.New(model, params, tc)
	if err != nil {
		t.Fatal(err)
	}
	before, err := tr.Evaluate(context.Background(), ds)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Fit(context.Background(), ds, nil); err != nil {
		t.Fatal(err)
	}
	after, err := tr.Evaluate(context.Background(), ds)
	if err != nil {
		t.Fatal(err)
	}
	lossBefore, _ := before.Get("loss")
	lossAfter, _ := after.Get("loss")
	acc, _ := after.Get("accuracy")
	if !(lossAfter < lossBefore/2) || acc < 0.95 {
		t.Errorf("loss %.4f → %.4f, accuracy %.3f; want the loss halved and accuracy ≥ 0.95", lossBefore, lossAfter, acc)
	}
	t.Logf("loss %.4f → %.4f, accuracy %.3f after %d steps", lossBefore, lossAfter, acc, tr.Step)
	for _, name := range []string{"layer1.1.num_batches_tracked", "layer2.1.num_batches_tracked"} {
		if got := params.Get(name).Value.Float32s()[0]; got != float32(tr.Step) {
			t.Errorf("%s = %v after %d steps", name, got, tr.Step)
		}
	}
}
