package transformer_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/internal/core"
	"github.com/tapeml/tapeml/internal/testutil/servetest"
	"github.com/tapeml/tapeml/models/transformer"
	"github.com/tapeml/tapeml/quantize"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/textclass"
	"github.com/tapeml/tapeml/train"
)

// TestInt8 quantizes a tiny encoder trained on the three-class CSV with
// Chinese texts (two layers, BERT's three projections, the CLS pooler):
// every Linear — the attention's query, key, value and output projections
// included — is int8; the int8 model agrees with the float32 one on the
// test split and on held-out messages, within quantization error, through
// tapeml.Load and the server alike; and int8 files with an attention
// weight of the wrong shape, scales or values are refused with one line
// naming the tensor.
func TestInt8(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	ctx := context.Background()
	spec, c := newSpec(t)
	c.VocabSize, c.MaxLen, c.MaxPosition, c.DModel, c.Layers, c.Heads, c.FFN = 120, 16, 16, 32, 2, 4, 64
	c.Pooling, c.Dropout, c.AttnDropout = transformer.CLS, 0, 0
	spec.Data.(*textclass.Data).Path = topics(t)
	spec.Training.Epochs, spec.Training.LR = 12, 5e-3
	dir := t.TempDir()
	spec.Out = filepath.Join(dir, "run")
	if _, err := train.Run(ctx, *spec); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "int8")
	rep, err := quantize.Int8(ctx, spec.Out, out, quantize.Options{Calibrate: -1})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for l := range c.Layers {
		p := fmt.Sprintf("bert.encoder.layer.%d.", l)
		want = append(want, p+"attention.self.query.weight", p+"attention.self.key.weight", p+"attention.self.value.weight",
			p+"attention.output.dense.weight", p+"intermediate.dense.weight", p+"output.dense.weight")
	}
	want = append(want, "bert.pooler.dense.weight", "classifier.weight")
	for _, name := range want {
		if rep.Quantized[name] != "linear" {
			t.Errorf("%s: role %q, want linear (quantized: %v)", name, rep.Quantized[name], rep.Quantized)
		}
	}
	ag := rep.Agreement
	t.Logf("float32 accuracy %.4f, int8 %.4f; agreement %d/%d, max |Δ prob| %.4g, max |Δ logit| %.4g; batch 32 %.0f vs %.0f ex/s",
		rep.Before.Value, rep.After.Value, ag.Same, ag.Compared, ag.MaxProbDiff, rep.MaxLogitDiff, rep.Before.Throughput32, rep.After.Throughput32)
	if ag.Compared == 0 || ag.Fraction() < 0.99 || math.Abs(rep.After.Value-rep.Before.Value) > 0.03 {
		t.Errorf("agreement %d/%d, accuracy %.4f → %.4f", ag.Same, ag.Compared, rep.Before.Value, rep.After.Value)
	}
	if !(rep.MaxLogitDiff > 0) || ag.MaxProbDiff > 0.05 {
		t.Errorf("max |Δ logit| %v, max |Δ probability| %v: want a quantization error, and a small one", rep.MaxLogitDiff, ag.MaxProbDiff)
	}

	// The one loader, and the server, run the int8 attention.
	f32, err := tapeml.Load(spec.Out)
	if err != nil {
		t.Fatal(err)
	}
	m, err := tapeml.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range want[:4] {
		if core.Unwrap(m).Loaded.Params.Quantized(name) == nil {
			t.Errorf("the loaded int8 model has no int8 form of %s", name)
		}
	}
	texts := []string{"the coach said the team will score", "股票 价格 下跌, 银行 贷款", "a storm with rain and snow", "sunny weather for the match", "zzz"}
	pf, err := f32.ClassifyTexts(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	pq, err := m.ClassifyTexts(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range texts {
		if pf[i].Class != pq[i].Class {
			t.Errorf("%q: int8 %s %v, float32 %s %v", texts[i], pq[i].Class, pq[i].Probs, pf[i].Class, pf[i].Probs)
		}
	}
	ck, err := checkpoint.Open(out, checkpoint.PickBest)
	if err != nil {
		t.Fatal(err)
	}
	served := servetest.TextProbs(t, ctx, ck, "topics", texts)
	for i, p := range pq {
		for j, v := range p.Probs {
			if math.Abs(float64(served[i*3+j]-v)) > 1e-6 {
				t.Errorf("text %d class %d: served %v, library %v", i, j, served[i*3+j], v)
			}
		}
	}

	// Bad int8 files.
	q := "bert.encoder.layer.1.attention.self.key.weight"
	for _, tc := range []struct {
		name   string
		tamper func(ts []safetensors.Tensor) []safetensors.Tensor
		want   string
	}{
		{"shape", func(ts []safetensors.Tensor) []safetensors.Tensor {
			return edit(ts, q+".int8", func(x *safetensors.Tensor) { x.Shape = []int{x.Shape[0], x.Shape[1] / 2, 2} })
		}, q},
		{"scales", func(ts []safetensors.Tensor) []safetensors.Tensor {
			return edit(ts, q+".scale", func(x *safetensors.Tensor) { *x = safetensors.F32(x.Name, []int{3}, []float32{1, 1, 1}) })
		}, "3 scales for 32 rows"},
		{"NaN scale", func(ts []safetensors.Tensor) []safetensors.Tensor {
			return edit(ts, q+".scale", func(x *safetensors.Tensor) {
				v, _ := x.Float32s()
				v[5] = float32(math.NaN())
				*x = safetensors.F32(x.Name, x.Shape, v)
			})
		}, q + `.scale": element 5 is NaN`},
		{"−128", func(ts []safetensors.Tensor) []safetensors.Tensor {
			return edit(ts, q+".int8", func(x *safetensors.Tensor) { x.Data[7] = 0x80 })
		}, "value 7 is −128"},
		{"missing", func(ts []safetensors.Tensor) []safetensors.Tensor {
			var keep []safetensors.Tensor
			for _, x := range ts {
				if x.Name != q+".int8" {
					keep = append(keep, x)
				}
			}
			return keep
		}, `no tensor "` + q + `.int8"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c8, err := checkpoint.Load(out)
			if err != nil {
				t.Fatal(err)
			}
			c8.Dir, c8.Weights = "", tc.tamper(c8.Weights)
			bad := filepath.Join(t.TempDir(), "bad")
			if err := checkpoint.Save(bad, c8); err != nil {
				t.Fatal(err)
			}
			_, err = tapeml.Load(bad)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line containing %q", err, tc.want)
			}
			t.Log(err)
		})
	}
}

// edit applies f to the tensor name of ts.
func edit(ts []safetensors.Tensor, name string, f func(*safetensors.Tensor)) []safetensors.Tensor {
	for i := range ts {
		if ts[i].Name == name {
			f(&ts[i])
		}
	}
	return ts
}
