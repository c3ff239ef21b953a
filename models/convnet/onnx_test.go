package convnet

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/internal/testutil/ortrun"
	"github.com/tapeml/tapeml/metrics"
)

// The serving graph (the folded, pooled direct convolutions) gives ONNX
// Runtime's logits and probabilities on the exported model: the reference
// architecture at batch 1 (its tiles split over the threads), and at
// batch 3 (examples split) an odd image whose pooled rows are not a
// multiple of the 8-column tile.
// The batch norms' statistics are random, so the folding matters. It
// skips without ONNX Runtime.
func TestServingMatchesONNXRuntime(t *testing.T) {
	for _, c := range []struct {
		cfg Config
		n   int
	}{
		{DefaultConfig(), 1},
		{Config{Channels: 2, Height: 12, Width: 22, Classes: 3}, 3},
	} {
		net, err := New(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		params := graph.NewParams(tensor.Float32, 5)
		prog := graph.NewProgram(net.Build, net.Loss, params, nil)
		if err := prog.Materialize(); err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(27, uint64(c.n)))
		for _, p := range params.List() {
			if !strings.Contains(p.Name, ".1.") || p.Counter { // the batch norms ("layer1.1.weight", …)
				continue
			}
			for i := range p.Value.Float32s() {
				v := float32(rng.NormFloat64())
				if strings.HasSuffix(p.Name, "running_var") {
					v = 0.2 + rng.Float32()
				}
				p.Value.Float32s()[i] = v
			}
		}
		shape := []int{c.n, c.cfg.Channels, c.cfg.Height, c.cfg.Width}
		images := make([]float32, c.n*c.cfg.Channels*c.cfg.Height*c.cfg.Width)
		in := ortrun.Array{Dtype: "float32", Shape: shape}
		for i := range images {
			images[i] = float32(rng.NormFloat64())
			in.Data = append(in.Data, float64(images[i]))
		}
		m, err := prog.Machine(c.n, graph.Infer)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Run([]*tensor.Dense{tensor.New(tensor.WithShape(shape...), tensor.WithBacking(images))}, nil); err != nil {
			t.Fatal(err)
		}
		logits := m.Output().Float32s()
		probs := metrics.Probabilities(net.Task(), logits, c.cfg.Classes)
		want := map[string]ortrun.Array{
			"logits": {Dtype: "float32", Shape: []int{c.n, c.cfg.Classes}},
			"probs":  {Dtype: "float32", Shape: []int{c.n, c.cfg.Classes}},
		}
		for i := range logits {
			l, p := want["logits"], want["probs"]
			l.Data, p.Data = append(l.Data, float64(logits[i])), append(p.Data, float64(probs[i]))
			want["logits"], want["probs"] = l, p
		}
		model, err := c.cfg.ONNX(checkpoint.Weights(params))
		if err != nil {
			t.Fatal(err)
		}
		b, err := model.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "model.onnx")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		ortrun.Check(t, path, map[string]ortrun.Array{"images": in}, want, 1e-4)
	}
}
