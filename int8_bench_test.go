package tapeml_test

import (
	"context"
	"maps"
	"path/filepath"
	"testing"
	"time"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/tapemltest"
)

// BenchmarkInt8Transformer times the reference transformer (random
// weights, maxlen 128, texts with random padding) at batch 32 in float32
// and with every Linear in int8 — the attention's projections included, as
// `tapeml optimize --int8` writes it — taking turns within each iteration
// so that both meet the same machine load; it reports each one's examples
// per second and their ratio.
//
//	go test -run '^$' -bench Int8Transformer -benchtime 20x .
func BenchmarkInt8Transformer(b *testing.B) {
	dir := b.TempDir()
	path, batches, err := tapemltest.Save("transformer", dir)
	if err != nil {
		b.Fatal(err)
	}
	int8Path, err := int8Linears(path, filepath.Join(dir, "int8"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var models []*tapeml.Model
	for _, p := range []string{path, int8Path} {
		m, err := tapeml.LoadWithOptions(p, tapeml.Options{MaxBatch: 32})
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Warmup(ctx); err != nil {
			b.Fatal(err)
		}
		models = append(models, m)
	}
	in := [][]float32{batches[32].Data}
	var spent [2]time.Duration
	for b.Loop() {
		for i, m := range models {
			start := time.Now()
			if _, err := m.Forward(ctx, in, 32); err != nil {
				b.Fatal(err)
			}
			spent[i] += time.Since(start)
		}
	}
	f32, i8 := float64(b.N*32)/spent[0].Seconds(), float64(b.N*32)/spent[1].Seconds()
	b.ReportMetric(f32, "float32-samples/s")
	b.ReportMetric(i8, "int8-samples/s")
	b.ReportMetric(i8/f32, "int8/float32")
}

// int8Linears writes the checkpoint at path with every Linear weight in
// int8 (checkpoint.QuantTensors, quantization.json) to out.
func int8Linears(path, out string) (string, error) {
	c, err := checkpoint.Load(path)
	if err != nil {
		return "", err
	}
	l, err := kinds.Decode(c)
	if err != nil {
		return "", err
	}
	shapes, err := graph.ParamShapes(l.Network.Build)
	if err != nil {
		return "", err
	}
	linear := map[string]bool{}
	for _, p := range shapes {
		linear[p.Name] = p.Role == graph.RoleLinear
	}
	var ts []safetensors.Tensor
	tensors := map[string]string{}
	for _, t := range c.Weights {
		if !linear[t.Name] {
			ts = append(ts, t)
			continue
		}
		w, err := t.Float32s()
		if err != nil {
			return "", err
		}
		ts = append(ts, checkpoint.QuantTensors(t.Name, graph.QuantizeRows(w, t.Shape))...)
		tensors[t.Name] = "linear"
	}
	raw, err := checkpoint.QuantizationJSON(&checkpoint.Quantization{Format: "int8", Tensors: tensors})
	if err != nil {
		return "", err
	}
	c8 := *c
	c8.Dir, c8.Weights, c8.Optimizer = "", ts, nil
	c8.Meta.WeightsOnly = true
	c8.Extra = maps.Clone(c.Extra)
	if c8.Extra == nil {
		c8.Extra = map[string][]byte{}
	}
	c8.Extra[checkpoint.QuantizationFile] = raw
	return out, checkpoint.Save(out, &c8)
}
