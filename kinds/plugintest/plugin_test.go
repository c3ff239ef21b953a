package plugintest_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/export"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/internal/testutil/ortrun"
	"github.com/tapeml/tapeml/internal/testutil/servetest"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/onnx"
	"github.com/tapeml/tapeml/safetensors"
	_ "github.com/tapeml/tapeml/samples" // the default data: the built-in sample
	"github.com/tapeml/tapeml/textclass"
	"github.com/tapeml/tapeml/train"
	"github.com/tapeml/tapeml/train/optim"
)

// A kind added through the plugin boundary, entirely in this test file: a
// bag-of-embeddings linear classifier (the mean of the texts' token
// embeddings, then one logit). Nothing outside this file knows it; the
// test trains it with train.Run, loads it with tapeml.Load, classifies,
// exports ONNX that ONNX Runtime runs, and serves it.

const bagKind = "bagofembeddings"

type bagConfig struct {
	NumWords int `json:"num_words"` // vocabulary size; id 0 is padding
	EmbedDim int `json:"embed_dim"`
	MaxLen   int `json:"maxlen"`
}

func (c bagConfig) Validate() error {
	if c.NumWords < 2 || c.NumWords > 1<<20 || c.EmbedDim < 1 || c.EmbedDim > 1024 || c.MaxLen < 1 || c.MaxLen > 1<<12 {
		return fmt.Errorf("bag: num_words %d, embed_dim %d, maxlen %d out of range", c.NumWords, c.EmbedDim, c.MaxLen)
	}
	return nil
}

func (c bagConfig) Network() (kinds.Network, error) { return bagNet{c}, nil }
func (c bagConfig) SeqLen() int                     { return c.MaxLen }
func (c bagConfig) Vocab() int                      { return c.NumWords }

func (bagConfig) Training() train.Config {
	return train.Config{Epochs: 2, Batch: 32, LR: 0.05, Seed: 1, Optimizer: optim.Config{Name: optim.Adam}}
}

// ONNX: ids → Gather → ReduceMean over the positions → Gemm → Sigmoid.
func (c bagConfig) ONNX(weights []safetensors.Tensor) (*onnx.Model, error) {
	b := onnx.NewGraphBuilder(bagKind, weights)
	b.Input("ids", onnx.Int64, onnx.BatchDim, onnx.Dim{Value: int64(c.MaxLen)})
	emb := b.Param("embedding.weight", c.NumWords, c.EmbedDim)
	x := b.Op("embedded", "Gather", []string{emb, "ids"})
	x = b.Op("mean", "ReduceMean", []string{x}, onnx.IntsAttr("axes", 1), onnx.IntAttr("keepdims", 0))
	logits := b.Gemm("logits", x, "fc", c.EmbedDim, 1)
	b.Op("probs", "Sigmoid", []string{logits})
	b.Output("logits", onnx.Float, onnx.BatchDim, onnx.Dim{Value: 1})
	b.Output("probs", onnx.Float, onnx.BatchDim, onnx.Dim{Value: 1})
	return b.Finish(c, "bag of embeddings: ids [batch, maxlen] → logits, probs [batch, 1]")
}

type bagNet struct{ c bagConfig }

func (n bagNet) Build(b *graph.Builder, batch int) (graph.Outputs, error) {
	ids := b.Input("ids", batch, n.c.MaxLen)
	x := graph.Embedding(b, "embedding", ids, n.c.NumWords, n.c.EmbedDim, graph.NoPadding) // [N, L, E]
	x = G.Must(G.Mean(x, 1))                                                               // [N, E]
	return graph.Outputs{Inputs: []*G.Node{ids}, Output: graph.Linear(b, "fc", x, 1, true)}, nil
}

func (bagNet) Loss(b *graph.Builder, out graph.Outputs) (graph.Objective, error) {
	return graph.BinaryLoss(b, out)
}

func (bagNet) Task() metrics.Task { return metrics.Binary }

func init() {
	kinds.Register(&kinds.Kind{
		Name:    bagKind,
		Family:  textclass.Family,
		Summary: "mean of token embeddings → dense; a kind defined in a test",
		Default: func() kinds.Config { return &bagConfig{NumWords: 2000, EmbedDim: 8, MaxLen: 60} },
	})
}

func TestKindThroughThePluginBoundary(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	ctx := context.Background()
	k, err := kinds.Lookup(bagKind)
	if err != nil {
		t.Fatal(err)
	}

	// Train on the built-in sample with the kind's own defaults.
	spec, err := train.NewSpec(k)
	if err != nil {
		t.Fatal(err)
	}
	spec.Out = filepath.Join(t.TempDir(), "run")
	var progress bytes.Buffer
	spec.Progress = &progress
	res, err := train.Run(ctx, *spec)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	acc := 0.0
	for _, x := range res.Test.Metrics {
		if x.Name == "accuracy" {
			acc = x.Value
		}
	}
	t.Logf("test accuracy %.3f after %d epochs; %s", acc, res.Epoch, res.Checkpoint)
	if acc < 0.8 {
		t.Errorf("test accuracy %.3f: the kind did not learn", acc)
	}

	// Load and classify.
	m, err := tapeml.Load(spec.Out)
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind() != bagKind || m.Family() != "text" {
		t.Fatalf("loaded a %s model of the %s family", m.Kind(), m.Family())
	}
	texts := []string{"WIN a FREE prize, click now to claim your CASH", "the meeting moved to 3pm, see the agenda attached", ""}
	preds, err := m.ClassifyTexts(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := m.EncodeTexts(texts)
	if err != nil {
		t.Fatal(err)
	}
	logits, err := m.Forward(ctx, [][]float32{ids}, len(texts))
	if err != nil {
		t.Fatal(err)
	}

	// ONNX, run by ONNX Runtime.
	c, err := checkpoint.Open(spec.Out, checkpoint.PickBest)
	if err != nil {
		t.Fatal(err)
	}
	onnxPath := filepath.Join(t.TempDir(), "bag.onnx")
	if err := export.WriteFile(c, export.ONNX, onnxPath); err != nil {
		t.Fatal(err)
	}
	pos := 0
	for i, name := range m.Classes() {
		if name == m.PositiveClass() {
			pos = i
		}
	}
	in, want := ortrun.Array{Dtype: "int64", Shape: []int{len(texts), m.MaxLen()}}, ortrun.Array{Dtype: "float32", Shape: []int{len(texts), 1}}
	probs := ortrun.Array{Dtype: "float32", Shape: []int{len(texts), 1}}
	for _, v := range ids {
		in.Data = append(in.Data, float64(v))
	}
	for i, v := range logits {
		want.Data = append(want.Data, float64(v))
		p := float64(preds[i].Probs[pos])
		if preds[i].NoEvidence {
			// The empty text is answered with the class prior; the graph
			// gives the network's output.
			p = metrics.Logistic(float64(v))
		}
		probs.Data = append(probs.Data, p)
	}
	if !preds[2].NoEvidence || preds[0].NoEvidence {
		t.Errorf("NoEvidence: %v %v %v, want only the empty text's", preds[0].NoEvidence, preds[1].NoEvidence, preds[2].NoEvidence)
	}
	ortrun.Check(t, onnxPath, map[string]ortrun.Array{"ids": in}, map[string]ortrun.Array{"logits": want, "probs": probs}, 1e-4)

	// Served from a repository, over the Open Inference Protocol.
	served := servetest.TextProbs(t, ctx, c, "bag", texts)
	for i, p := range preds {
		for j, v := range p.Probs {
			if math.Abs(float64(served[i*len(p.Probs)+j]-v)) > 1e-6 {
				t.Errorf("text %d class %d: served %v, library %v", i, j, served[i*len(p.Probs)+j], v)
			}
		}
	}
}
