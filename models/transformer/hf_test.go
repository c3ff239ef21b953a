package transformer_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/safetensors"
)

const hfFixture = "testdata/hf-bert"

type hfGolden struct {
	IDs    [][]int     `json:"ids"`
	Logits [][]float64 `json:"logits"`
	Labels []string    `json:"labels"`
}

// TestImportHF imports the small random BertForSequenceClassification and
// DistilBertForSequenceClassification that tools/pytorch/hf_bert_fixture.py
// and hf_distilbert_fixture.py wrote in Hugging Face's layout and
// checks tapeml's logits against the PyTorch reference's (modeling_bert.py
// followed, float64 on the float32 weights) on the same token ids, within
// 1e-5, through a saved checkpoint and tapeml.Load.
func TestImportHF(t *testing.T) {
	for _, dir := range []string{hfFixture, "testdata/hf-distilbert"} {
		t.Run(filepath.Base(dir), func(t *testing.T) { checkImport(t, dir) })
	}
}

// checkImport imports the fixture folder dir and compares its logits with
// the golden's.
func checkImport(t *testing.T, hfFixture string) {
	var g hfGolden
	readJSONFile(t, filepath.Join(hfFixture, "golden.json"), &g)
	dir := importFixture(t, hfFixture)
	m, err := tapeml.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Classes(), g.Labels) || m.MaxLen() != len(g.IDs[0]) {
		t.Fatalf("classes %v, maxlen %d; want %v, %d", m.Classes(), m.MaxLen(), g.Labels, len(g.IDs[0]))
	}
	worst := maxDiff(t, forward(t, dir, g.IDs), g.Logits)
	t.Logf("largest logit difference from PyTorch: %.3g", worst)
	if worst > 1e-5 {
		t.Errorf("logits up to %.3g from PyTorch's, want within 1e-5", worst)
	}
	ctx := context.Background()
	// Texts go through the folder's vocabulary: [CLS] pieces [SEP].
	enc, err := m.EncodeTexts([]string{"Free money, click now!"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{2, 11, 12, 6, 13, 14, 7, 3, 0}; !slices.Equal(enc[:len(want)], want) {
		t.Errorf("encoded %v, want %v…", enc[:len(want)], want)
	}
	if _, err := m.ClassifyTexts(ctx, []string{"免费 银行", "see you at the meeting"}); err != nil {
		t.Fatal(err)
	}
}

// copyFixture copies the fixture into a temporary folder.
func copyFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"} {
		b, err := os.ReadFile(filepath.Join(hfFixture, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// editWeights rewrites the folder's model.safetensors through edit.
func editWeights(t *testing.T, dir string, edit func([]safetensors.Tensor) []safetensors.Tensor) {
	t.Helper()
	path := filepath.Join(dir, "model.safetensors")
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := safetensors.WriteFile(path, edit(slices.Clone(f.Tensors)), f.Metadata); err != nil {
		t.Fatal(err)
	}
}

func editConfig(t *testing.T, dir string, edit func(map[string]any)) {
	t.Helper()
	path := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestImportHFBadFolders: each damaged folder gives a one-line error that
// names what is wrong, before the model is built.
func TestImportHFBadFolders(t *testing.T) {
	const query = "bert.encoder.layer.1.attention.self.query.weight"
	cases := []struct {
		name string
		edit func(t *testing.T, dir string)
		want string
	}{
		{"wrong shape", func(t *testing.T, dir string) {
			editWeights(t, dir, func(ts []safetensors.Tensor) []safetensors.Tensor {
				for i, x := range ts {
					if x.Name == query {
						ts[i] = safetensors.F32(query, []int{16, 64}, make([]float32, 16*64))
					}
				}
				return ts
			})
		}, `"` + query + `" has shape [16 64], the model expects [32 32]`},
		{"missing tensor", func(t *testing.T, dir string) {
			editWeights(t, dir, func(ts []safetensors.Tensor) []safetensors.Tensor {
				return slices.DeleteFunc(ts, func(x safetensors.Tensor) bool { return x.Name == "bert.pooler.dense.bias" })
			})
		}, `missing "bert.pooler.dense.bias"`},
		{"unexpected tensor", func(t *testing.T, dir string) {
			editWeights(t, dir, func(ts []safetensors.Tensor) []safetensors.Tensor {
				return append(ts, safetensors.F32("cls.predictions.bias", []int{2}, []float32{0, 0}))
			})
		}, `unexpected tensor "cls.predictions.bias"`},
		{"NaN weight", func(t *testing.T, dir string) {
			editWeights(t, dir, func(ts []safetensors.Tensor) []safetensors.Tensor {
				for i, x := range ts {
					if x.Name == query {
						v := make([]float32, 32*32)
						v[5] = float32(math.NaN())
						ts[i] = safetensors.F32(query, x.Shape, v)
					}
				}
				return ts
			})
		}, `tensor "` + query + `": element 5 is NaN`},
		{"vocabulary", func(t *testing.T, dir string) {
			path := filepath.Join(dir, "vocab.txt")
			b, _ := os.ReadFile(path)
			os.WriteFile(path, []byte(strings.TrimSuffix(string(b), "##y\n")), 0o644)
		}, "the vocabulary has 60 tokens, config.json's vocab_size (the word embedding's rows) is 61"},
		{"architecture", func(t *testing.T, dir string) {
			editConfig(t, dir, func(m map[string]any) { m["architectures"] = []string{"GPT2LMHeadModel"} })
		}, `architectures ["GPT2LMHeadModel"]`},
		{"huge vocabulary", func(t *testing.T, dir string) {
			editConfig(t, dir, func(m map[string]any) { m["vocab_size"] = 2_000_000_000 })
		}, "vocab_size 2000000000 is over the limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyFixture(t)
			c.edit(t, dir)
			_, err := kinds.ImportFolder("hf", dir)
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %v, want one line with %q", err, c.want)
			}
		})
	}
}

// TestImportHFBertModel imports the encoder alone (BertModel, names
// without "bert."), which gets a new binary classifier: the logit must be
// that classifier applied to the PyTorch reference's pooled output.
func TestImportHFBertModel(t *testing.T) {
	const dir = "testdata/hf-bertmodel"
	var g struct {
		IDs    [][]int     `json:"ids"`
		Pooled [][]float64 `json:"pooled"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	c, err := kinds.ImportFolder("hf", dir)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "imported")
	if err := checkpoint.Save(out, c); err != nil {
		t.Fatal(err)
	}
	m, err := tapeml.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Classes(), []string{"LABEL_0", "LABEL_1"}) {
		t.Fatalf("classes %v", m.Classes())
	}
	w, _ := safetensors.Lookup(c.Weights, "classifier.weight")
	bias, _ := safetensors.Lookup(c.Weights, "classifier.bias")
	wv, _ := w.Float32s()
	bv, _ := bias.Float32s()
	var ids []float32
	for _, row := range g.IDs {
		for _, id := range row {
			ids = append(ids, float32(id))
		}
	}
	logits, err := m.Forward(context.Background(), [][]float32{ids}, len(g.IDs))
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range g.Pooled {
		want := float64(bv[0])
		for j, v := range p {
			want += float64(wv[j]) * v
		}
		if d := math.Abs(float64(logits[i]) - want); d > 1e-5 {
			t.Errorf("text %d: logit %v, the classifier on PyTorch's pooled output %v", i, logits[i], want)
		}
	}
}

// TestImportHFBertModelMissing: a BertModel's errors name its tensors as
// its file does, without "bert.".
func TestImportHFBertModelMissing(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"config.json", "model.safetensors", "vocab.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata/hf-bertmodel", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	editWeights(t, dir, func(ts []safetensors.Tensor) []safetensors.Tensor {
		return slices.DeleteFunc(ts, func(x safetensors.Tensor) bool { return x.Name == "pooler.dense.bias" })
	})
	if _, err := kinds.ImportFolder("hf", dir); err == nil || !strings.Contains(err.Error(), `missing "pooler.dense.bias"`) {
		t.Fatalf("got %v, want the missing pooler.dense.bias named", err)
	}
}

// TestImportHFDistilBertMissing: DistilBERT's errors name its tensors.
func TestImportHFDistilBertMissing(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"config.json", "model.safetensors", "vocab.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata/hf-distilbert", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const name = "distilbert.transformer.layer.1.ffn.lin2.bias"
	editWeights(t, dir, func(ts []safetensors.Tensor) []safetensors.Tensor {
		return slices.DeleteFunc(ts, func(x safetensors.Tensor) bool { return x.Name == name })
	})
	if _, err := kinds.ImportFolder("hf", dir); err == nil || !strings.Contains(err.Error(), `missing "`+name+`"`) {
		t.Fatalf("got %v, want the missing %s named", err, name)
	}
}
