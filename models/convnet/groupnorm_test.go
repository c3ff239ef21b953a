package convnet

import (
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/graph"
)

func TestNormConfig(t *testing.T) {
	cfg := Config{Channels: 1, Height: 8, Width: 8, Classes: 3, Dropout: 0, Norm: "layer"}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "norm") {
		t.Errorf("norm %q: error %v", cfg.Norm, err)
	}
	for _, c := range []struct {
		norm       string
		names      string
		perExample string // "" or the error CompileSamples gives
	}{
		{NormGroup, "layer1.0.weight layer1.0.bias layer1.1.weight layer1.1.bias layer2.0.weight layer2.0.bias layer2.1.weight layer2.1.bias fc.0.weight fc.0.bias fc.3.weight fc.3.bias fc.6.weight fc.6.bias", ""},
		{NormBatch, "layer1.0.weight layer1.0.bias layer1.1.weight layer1.1.bias layer1.1.running_mean layer1.1.running_var layer1.1.num_batches_tracked layer2.0.weight layer2.0.bias layer2.1.weight layer2.1.bias layer2.1.running_mean layer2.1.running_var layer2.1.num_batches_tracked fc.0.weight fc.0.bias fc.3.weight fc.3.bias fc.6.weight fc.6.bias", "BatchNorm"},
	} {
		cfg.Norm = c.norm
		m, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ps := graph.NewParams(tensor.Float32, 1)
		sm, err := graph.CompileSamples(m.Build, m.Loss, ps, nil, 2)
		var names []string
		for _, p := range ps.List() {
			names = append(names, p.Name)
		}
		if got := strings.Join(names, " "); got != c.names {
			t.Errorf("norm %s: parameters %s, want %s", c.norm, got, c.names)
		}
		if c.perExample == "" {
			if err != nil {
				t.Errorf("norm %s: %v", c.norm, err)
				continue
			}
			img := tensor.New(tensor.WithShape(2, 1, 8, 8), tensor.WithBacking(make([]float32, 128)))
			lab := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float32{0, 2}))
			if err := sm.Run([]*tensor.Dense{img}, lab); err != nil {
				t.Fatal(err)
			}
			if n := sm.SquaredNorms(); len(n) != 2 || !(n[0] > 0) {
				t.Errorf("norm %s: squared norms %v", c.norm, n)
			}
		} else if err == nil || !strings.Contains(err.Error(), c.perExample) {
			t.Errorf("norm %s: per-example error %v, want %q", c.norm, err, c.perExample)
		}
	}
}
