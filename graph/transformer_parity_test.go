package graph

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The golden is written by tools/pytorch/transformer_golden.py with
// PyTorch 1.13: regenerate it with
// /usr/bin/python3 tools/pytorch/transformer_golden.py.
const transformerGolden = "testdata/transformer_golden.json"

type goldenTensor struct {
	Name  string    `json:"name"`
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

type transformerCase struct {
	Name   string `json:"name"`
	Config struct {
		Kind        string  `json:"kind"`
		Eps         float64 `json:"eps"`
		Heads       int     `json:"heads"`
		FFN         int     `json:"ffn"`
		Layers      int     `json:"layers"`
		Vocab       int     `json:"vocab"`
		MaxPosition int     `json:"max_position"`
		Types       int     `json:"types"`
	} `json:"config"`
	Inputs           []goldenTensor `json:"inputs"`
	Params           []goldenTensor `json:"params"`
	R                goldenTensor   `json:"r"`
	Float64, Float32 struct {
		Y     goldenTensor   `json:"y"`
		Grads []goldenTensor `json:"grads"` // x (when a float input), then the parameters in state_dict order
	}
}

func loadTransformerGolden(t *testing.T) []transformerCase {
	t.Helper()
	raw, err := os.ReadFile(transformerGolden)
	if err != nil {
		t.Fatal(err)
	}
	var g struct{ Cases []transformerCase }
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("%s: %v", transformerGolden, err)
	}
	if len(g.Cases) != 7 {
		t.Fatalf("%s: %d cases, expected 7: regenerate it", transformerGolden, len(g.Cases))
	}
	return g.Cases
}

// leaf adds a leaf of dt holding vals.
func leaf(b *Builder, name string, vals []float64, shape []int) *G.Node {
	v := tensor.New(tensor.Of(b.Dtype()), tensor.WithShape(shape...))
	for i, f := range vals {
		v.Set(i, castFloat(b.Dtype(), f))
	}
	return G.NewTensor(b.G, b.Dtype(), len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(v))
}

// buildTransformerCase adds the case's module to b over its inputs and
// returns its output, the float input x (nil for ids) and the prefix that
// turns PyTorch's parameter names into tapeml's.
func buildTransformerCase(t *testing.T, b *Builder, c *transformerCase) (y, x *G.Node, prefix string) {
	in := map[string]*G.Node{}
	for _, v := range c.Inputs {
		in[v.Name] = leaf(b, v.Name, v.Data, v.Shape)
	}
	x, mask := in["x"], in["mask"]
	cfg := c.Config
	ln := LayerNormConfig{Eps: cfg.Eps}
	ffn := func(p string, h *G.Node) *G.Node {
		return Linear(b, p+"linear2", LinearGELU(b, p+"linear1", h, cfg.FFN, true), h.Shape()[2], true)
	}
	attn := AttentionConfig{Heads: cfg.Heads, QKV: "self_attn.in_proj", Out: "self_attn.out_proj"}
	switch cfg.Kind {
	case "layernorm":
		return LayerNorm(b, "norm", x, ln), x, "norm."
	case "gelu":
		return GELU(x), x, ""
	case "mha":
		return SelfAttention(b, x, mask, AttentionConfig{Heads: cfg.Heads, QKV: "in_proj", Out: "out_proj"}), x, ""
	case "encoder_post": // x = norm1(x + sa(x)); x = norm2(x + ff(x))
		h := AddLayerNorm(b, "norm1", x, SelfAttention(b, x, mask, attn), ln)
		return AddLayerNorm(b, "norm2", h, ffn("", h), ln), x, ""
	case "encoder_pre": // x = x + sa(norm1(x)); x = x + ff(norm2(x))
		h := Add(x, SelfAttention(b, LayerNorm(b, "norm1", x, ln), mask, attn))
		return Add(h, ffn("", LayerNorm(b, "norm2", h, ln))), x, ""
	case "bert": // BertEmbeddings, then BertLayers: as modeling_bert.py, additions in its order
		ids, types := in["ids"], in["types"]
		d := c.Float64.Y.Shape[2]
		h := Embedding(b, "embeddings.word_embeddings", ids, cfg.Vocab, d, 0)
		h = TokenTypeEmbedding(b, "embeddings.token_type_embeddings", h, types, cfg.Types, Normal(0.02))
		h = PositionEmbedding(b, "embeddings.position_embeddings", h, cfg.MaxPosition, Normal(0.02))
		h = LayerNorm(b, "embeddings.LayerNorm", h, ln)
		for l := 0; l < cfg.Layers; l++ {
			p := fmt.Sprintf("encoder.layer.%d.", l)
			a := SelfAttention(b, h, mask, AttentionConfig{Heads: cfg.Heads,
				Query: p + "attention.self.query", Key: p + "attention.self.key", Value: p + "attention.self.value",
				Out: p + "attention.output.dense"})
			h = AddLayerNorm(b, p+"attention.output.LayerNorm", a, h, ln)
			f := Linear(b, p+"output.dense", LinearGELU(b, p+"intermediate.dense", h, cfg.FFN, true), d, true)
			h = AddLayerNorm(b, p+"output.LayerNorm", f, h, ln)
		}
		return h, nil, ""
	}
	t.Fatalf("case %s: unknown kind %q", c.Name, cfg.Kind)
	return nil, nil, ""
}

// loadGoldenParams copies PyTorch's weights into b's parameters by name.
func loadGoldenParams(t *testing.T, b *Builder, c *transformerCase, prefix string) {
	t.Helper()
	if len(b.Params.List()) != len(c.Params) {
		t.Fatalf("%d parameters, PyTorch's state_dict has %d", len(b.Params.List()), len(c.Params))
	}
	for _, w := range c.Params {
		p := b.Params.Get(prefix + w.Name)
		if p == nil || !slices.Equal(p.Shape(), w.Shape) {
			t.Fatalf("PyTorch's %s %v has no parameter of that shape here", w.Name, w.Shape)
		}
		for i, f := range w.Data {
			p.Value.Set(i, castFloat(b.Dtype(), f))
		}
	}
}

// TestTransformerParityWithPyTorch checks LayerNorm, GELU, SelfAttention
// (as nn.MultiheadAttention), encoder layers built from them (as
// nn.TransformerEncoderLayer, post-LN and pre-LN) and a two-layer BERT
// encoder with its embeddings (as Hugging Face's modeling_bert.py) against
// PyTorch: the output and the gradients of Σ y⊙R with respect to the input
// and every weight, on batches of mixed lengths with padding masks —
// float64 within 1e-9, float32 within 1e-4 (relative to max(1, |value|)).
// The float32 serving graph (packed weights) must give the output too.
func TestTransformerParityWithPyTorch(t *testing.T) {
	for _, c := range loadTransformerGolden(t) {
		t.Run(c.Name, func(t *testing.T) {
			for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
				want, tol := c.Float64, 1e-9
				if dt == tensor.Float32 {
					want, tol = c.Float32, 1e-4
				}
				b := NewBuilder(NewParams(dt, 1), Train, nil)
				y, x, prefix := buildTransformerCase(t, b, &c)
				loadGoldenParams(t, b, &c, prefix)
				loss := G.Must(G.Sum(G.Must(G.HadamardProd(y, leaf(b, "R", c.R.Data, c.R.Shape)))))
				var wrt []*G.Node
				if x != nil {
					wrt = append(wrt, x)
				}
				for _, p := range c.Params {
					wrt = append(wrt, b.ParamNode(prefix+p.Name))
				}
				grads, err := G.Grad(loss, wrt...)
				if err != nil {
					t.Fatal(err)
				}
				vm := G.NewTapeMachine(b.G)
				if err := vm.RunAll(); err != nil {
					t.Fatal(err)
				}
				worst, worstWhat := 0.0, ""
				check := func(what string, got G.Value, want goldenTensor) {
					d := got.(*tensor.Dense)
					if !slices.Equal([]int(d.Shape()), want.Shape) {
						t.Errorf("%v %s: shape %v, PyTorch's %v", dt, what, d.Shape(), want.Shape)
						return
					}
					for i, w := range want.Data {
						e := math.Abs(toFloat64(d.Get(i))-w) / math.Max(1, math.Abs(w))
						if !(e <= tol) {
							t.Errorf("%v %s[%d]: %.12g, PyTorch %.12g", dt, what, i, toFloat64(d.Get(i)), w)
							return
						}
						if e > worst {
							worst, worstWhat = e, what
						}
					}
				}
				check("y", y.Value(), want.Y)
				if len(grads) != len(want.Grads) {
					t.Fatalf("%d gradients, PyTorch has %d", len(grads), len(want.Grads))
				}
				for i, g := range grads {
					check("gradient of "+want.Grads[i].Name, g.Value(), want.Grads[i])
				}
				vm.Close()
				t.Logf("%v: worst error %.3g (%s)", dt, worst, worstWhat)
				if dt != tensor.Float32 {
					continue
				}
				sb := NewBuilder(NewParams(dt, 1), Infer, nil)
				sy, _, _ := buildTransformerCase(t, sb, &c)
				loadGoldenParams(t, sb, &c, prefix)
				svm := G.NewTapeMachine(sb.G)
				if err := svm.RunAll(); err != nil {
					t.Fatal(err)
				}
				worst = 0
				check("serving y", sy.Value(), want.Y)
				svm.Close()
				t.Logf("serving graph: worst error %.3g", worst)
			}
		})
	}
}
