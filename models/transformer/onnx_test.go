package transformer_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/export"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/internal/testutil/modeltest"
	"github.com/tapeml/tapeml/internal/testutil/ortrun"
	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/models/transformer"
)

// onnxIDs are texts as the WordPiece preprocessing writes them ([CLS] = 2,
// [SEP] = 3, then [PAD] = 0) of every length up to maxlen 10, and two rows
// no tokenizer writes but ids may hold: padding only, and padding inside.
var onnxIDs = [][]int{
	{2, 17, 3, 0, 0, 0, 0, 0, 0, 0},
	{2, 5, 9, 11, 21, 3, 0, 0, 0, 0},
	{2, 8, 4, 29, 11, 6, 5, 9, 12, 3},
	{2, 3, 0, 0, 0, 0, 0, 0, 0, 0},
	{0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{2, 7, 0, 0, 12, 3, 0, 0, 0, 0},
}

// TestONNXRuntime: ONNX Runtime runs the exported graph of each norm,
// pooling and head and gives tapeml's serving logits and probabilities
// within 1e-4.
func TestONNXRuntime(t *testing.T) {
	base := transformer.Config{VocabSize: 30, MaxLen: 10, MaxPosition: 12, TypeVocab: 2, DModel: 8, Layers: 2, Heads: 2, FFN: 16,
		Dropout: 0.1, AttnDropout: 0.1, Eps: 1e-12, Norm: transformer.PostLN, Pooling: transformer.Mean}
	preCLS := base // pre-LN, BERT's pooler, three classes, PyTorch's eps
	preCLS.Norm, preCLS.Pooling, preCLS.Eps, preCLS.Classes = transformer.PreLN, transformer.CLS, 1e-5, 3
	distil := base // DistilBERT's shape: no token types, a ReLU pre-classifier
	distil.TypeVocab, distil.Pooling, distil.PoolerAct, distil.Heads = 0, transformer.CLS, "relu", 4
	for name, cfg := range map[string]transformer.Config{"post-LN mean binary": base, "pre-LN cls 3 classes": preCLS,
		"no token types relu pooler binary": distil} {
		t.Run(name, func(t *testing.T) {
			t.Parallel() // ONNX Runtime's start is most of the time
			modeltest.CheckTextONNX(t, cfg, onnxIDs, 7, 1e-4, layerNorms)
		})
	}
}

// layerNorms gives every LayerNorm γ and β other values than their
// initial 1 and 0, and the embedding's padding row nonzero values (the
// mask must not rely on it).
func layerNorms(ps *graph.Params) {
	for _, p := range ps.List() {
		v := p.Value.Float32s()
		switch {
		case strings.HasSuffix(p.Name, "LayerNorm.weight"):
			for i := range v {
				v[i] = 0.6 + 0.1*float32(i%7)
			}
		case strings.HasSuffix(p.Name, "LayerNorm.bias"):
			for i := range v {
				v[i] = 0.05*float32(i%5) - 0.1
			}
		case p.Name == "bert.embeddings.word_embeddings.weight":
			for i := range v[:8] {
				v[i] = 0.3 - 0.07*float32(i)
			}
		}
	}
}

// TestONNXRuntimeImported: the Hugging Face fixtures, imported and
// exported by export.WriteFile, run in ONNX Runtime on the goldens'
// mixed-length ids give tapeml's serving logits and probabilities within
// 1e-4 (TestImportHF holds tapeml's within 1e-5 of PyTorch's).
func TestONNXRuntimeImported(t *testing.T) {
	for _, fixture := range []string{hfFixture, "testdata/hf-distilbert"} {
		t.Run(filepath.Base(fixture), func(t *testing.T) {
			t.Parallel()
			var g hfGolden
			readJSONFile(t, filepath.Join(fixture, "golden.json"), &g)
			dir := importFixture(t, fixture)
			c, err := checkpoint.Open(dir, checkpoint.PickBest)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "model.onnx")
			if err := export.WriteFile(c, export.ONNX, path); err != nil {
				t.Fatal(err)
			}
			n, L := len(g.IDs), len(g.IDs[0])
			ids := ortrun.Array{Dtype: "int64", Shape: []int{n, L}}
			for _, row := range g.IDs {
				for _, id := range row {
					ids.Data = append(ids.Data, float64(id))
				}
			}
			logits := forward(t, dir, g.IDs)
			width := len(logits[0])
			var flat []float32
			tapemlLogits := ortrun.Array{Dtype: "float32", Shape: []int{n, width}}
			for _, row := range logits {
				for _, v := range row {
					flat = append(flat, float32(v))
					tapemlLogits.Data = append(tapemlLogits.Data, v)
				}
			}
			task := metrics.Multiclass
			if width == 1 {
				task = metrics.Binary
			}
			probs := ortrun.Array{Dtype: "float32", Shape: []int{n, width}}
			for _, p := range metrics.Probabilities(task, flat, width) {
				probs.Data = append(probs.Data, float64(p))
			}
			ortrun.Check(t, path, map[string]ortrun.Array{"ids": ids}, map[string]ortrun.Array{"logits": tapemlLogits, "probs": probs}, 1e-4)
		})
	}
}
