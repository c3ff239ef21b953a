package transformer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/atomicfile"
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/export"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/models/transformer"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/text"
	"github.com/tapeml/tapeml/textclass"

	"gorgonia.org/tensor"
)

// configExceptions are the config.json fields of the fixtures that an
// export does not give back: transformers' version (tapeml is not
// transformers), and DistilBERT's question-answering head's dropout and
// seq_classif_dropout, which tapeml's one hidden dropout replaces (0.1
// against the fixture's 0.2; training settings, not the function).
var configExceptions = map[string][]string{
	"BertForSequenceClassification":       {"transformers_version"},
	"DistilBertForSequenceClassification": {"transformers_version", "qa_dropout", "seq_classif_dropout"},
}

// exportHF exports the checkpoint dir to a new Hugging Face folder.
func exportHF(t *testing.T, dir string) string {
	t.Helper()
	c, err := checkpoint.Open(dir, checkpoint.PickBest)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "hf")
	if err := export.WriteFile(c, export.HF, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// forward is the logits of the checkpoint dir (through tapeml.Load) on
// rows of token ids.
func forward(t *testing.T, dir string, ids [][]int) [][]float64 {
	t.Helper()
	m, err := tapeml.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var flat []float32
	for _, row := range ids {
		for _, id := range row {
			flat = append(flat, float32(id))
		}
	}
	out, err := m.Forward(context.Background(), [][]float32{flat}, len(ids))
	if err != nil {
		t.Fatal(err)
	}
	w := len(out) / len(ids)
	logits := make([][]float64, len(ids))
	for i := range logits {
		for _, v := range out[i*w : (i+1)*w] {
			logits[i] = append(logits[i], float64(v))
		}
	}
	return logits
}

// maxDiff is the largest difference between two tables of logits.
func maxDiff(t *testing.T, got, want [][]float64) float64 {
	t.Helper()
	worst := 0.0
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("row %d: %d logits, want %d", i, len(got[i]), len(want[i]))
		}
		for j := range want[i] {
			worst = max(worst, math.Abs(got[i][j]-want[i][j]))
		}
	}
	return worst
}

func readJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestExportHFRoundTrip imports the BERT and DistilBERT fixtures, exports
// them back with export --format hf and checks the folder against the
// original: the same tensor names, shapes, dtypes and values, config.json's
// fields equal (but configExceptions), the same vocabulary and lower-casing;
// imported again, the logits on the golden's ids are within 1e-5 of
// PyTorch's and equal to the first import's.
func TestExportHFRoundTrip(t *testing.T) {
	for _, fixture := range []string{hfFixture, "testdata/hf-distilbert"} {
		t.Run(filepath.Base(fixture), func(t *testing.T) {
			out := exportHF(t, importFixture(t, fixture))

			orig, err := safetensors.ReadFile(filepath.Join(fixture, "model.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := safetensors.ReadFile(filepath.Join(out, "model.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			if got.Metadata["format"] != "pt" {
				t.Errorf("metadata %v: want format pt, as save_pretrained", got.Metadata)
			}
			byName := map[string]safetensors.Tensor{}
			for _, ts := range got.Tensors {
				byName[ts.Name] = ts
			}
			if len(got.Tensors) != len(orig.Tensors) {
				t.Errorf("%d tensors, the original %d", len(got.Tensors), len(orig.Tensors))
			}
			for _, want := range orig.Tensors {
				g, ok := byName[want.Name]
				switch {
				case !ok:
					t.Errorf("no tensor %q", want.Name)
				case g.Dtype != want.Dtype || !slices.Equal(g.Shape, want.Shape):
					t.Errorf("%s: %s %v, want %s %v", want.Name, g.Dtype, g.Shape, want.Dtype, want.Shape)
				case !bytes.Equal(g.Data, want.Data):
					t.Errorf("%s: values differ from the original's", want.Name)
				}
			}

			var oc, gc map[string]any
			readJSONFile(t, filepath.Join(fixture, "config.json"), &oc)
			readJSONFile(t, filepath.Join(out, "config.json"), &gc)
			arch := oc["architectures"].([]any)[0].(string)
			for _, k := range configExceptions[arch] {
				delete(oc, k)
				delete(gc, k)
			}
			for _, k := range slices.Sorted(maps.Keys(oc)) {
				if !jsonEqual(oc[k], gc[k]) {
					t.Errorf("config.json %s: %v, the original %v", k, gc[k], oc[k])
				}
			}
			for k := range gc {
				if _, ok := oc[k]; !ok {
					t.Errorf("config.json has %s, the original does not", k)
				}
			}
			for _, f := range []string{"vocab.txt"} {
				a, _ := os.ReadFile(filepath.Join(fixture, f))
				b, _ := os.ReadFile(filepath.Join(out, f))
				if !bytes.Equal(a, b) {
					t.Errorf("%s differs from the original's", f)
				}
			}
			var otc, gtc map[string]any
			readJSONFile(t, filepath.Join(fixture, "tokenizer_config.json"), &otc)
			readJSONFile(t, filepath.Join(out, "tokenizer_config.json"), &gtc)
			for _, k := range []string{"do_lower_case", "tokenizer_class"} {
				if otc[k] != gtc[k] {
					t.Errorf("tokenizer_config.json %s: %v, the original %v", k, gtc[k], otc[k])
				}
			}

			var g hfGolden
			readJSONFile(t, filepath.Join(fixture, "golden.json"), &g)
			first := forward(t, importFixture(t, fixture), g.IDs)
			again := forward(t, importFixture(t, out), g.IDs)
			d := maxDiff(t, again, g.Logits)
			t.Logf("re-imported export: largest logit difference from PyTorch %.3g", d)
			if d > 1e-5 {
				t.Errorf("re-imported logits up to %.3g from PyTorch's, want within 1e-5", d)
			}
			if d := maxDiff(t, again, first); d != 0 {
				t.Errorf("re-imported logits differ from the first import's by %.3g", d)
			}
		})
	}
}

// jsonEqual compares decoded JSON values.
func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// scratch is a checkpoint of a transformer as train transformer --pooling
// cls makes it, random weights, classes given: a WordPiece vocabulary
// learned from a few texts.
func scratch(t *testing.T, classes []string) string {
	t.Helper()
	texts := []string{"Free money, click now!", "See you at the meeting on Monday.", "Rain and snow: the team lost the match",
		"银行 贷款 股票", "Déjà vu: café prices are up", "the bank's stock price fell sharply"}
	labels := make([]int, len(texts))
	for i := range labels {
		labels[i] = i % len(classes)
	}
	cfg := transformer.DefaultConfig()
	cfg.VocabSize, cfg.MaxLen, cfg.MaxPosition, cfg.DModel, cfg.Layers, cfg.Heads, cfg.FFN = 400, 12, 16, 16, 2, 2, 24
	cfg.Pooling = transformer.CLS
	cfg.Head = textclass.Head{Classes: len(classes)}
	positive := -1
	if len(classes) == 2 {
		positive = 0 // the logit scores the first class: exported as (z, 0)
	}
	learn := text.LearnConfig{VocabSize: cfg.VocabSize, Tokenizer: cfg.WordPiece()}
	pre, err := text.FitWordPiece(texts, labels, classes, positive, text.CleanOptions{}, learn, cfg.MaxLen)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(pre.WordPiece.Tokens()); n >= cfg.VocabSize {
		t.Fatalf("learned %d pieces: the test wants fewer than vocab_size %d, as from-scratch runs have", n, cfg.VocabSize)
	}
	m, err := transformer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	params := graph.NewParams(tensor.Float32, 7)
	if err := graph.Materialize(m.Build, params); err != nil {
		t.Fatal(err)
	}
	arch, _ := json.Marshal(cfg)
	run, _ := json.Marshal(textclass.Run{Model: arch})
	preJSON, _ := json.Marshal(pre)
	dir := filepath.Join(t.TempDir(), "scratch")
	c := &checkpoint.Checkpoint{Meta: checkpoint.Meta{ModelKind: transformer.Kind, ModelConfig: run, Preprocessing: preJSON, WeightsOnly: true},
		Weights: checkpoint.Weights(params)}
	if err := checkpoint.Save(dir, c); err != nil {
		t.Fatal(err)
	}
	return dir
}

// scratchIDs are token ids of texts through the checkpoint's tokenizer.
func scratchIDs(t *testing.T, dir string) [][]int {
	t.Helper()
	m, err := tapeml.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := m.EncodeTexts([]string{"free cash now", "the meeting is on monday, see you", "下雨 天气", "zzz qqq"})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([][]int, 4)
	for i := range ids {
		for _, v := range enc[i*m.MaxLen() : (i+1)*m.MaxLen()] {
			ids[i] = append(ids[i], int(v))
		}
	}
	return ids
}

// TestExportHFScratch exports transformers trained by tapeml (three
// classes, and two: a binary head) as BertForSequenceClassification:
// id2label and label2id from the classes, vocab.txt the learned
// vocabulary in id order filled up to vocab_size, do_lower_case and the special tokens in tokenizer_config.json;
// imported back, the same logits (the binary head's one logit z, the first
// class's here, is Hugging Face's (z, 0) and comes back as the second
// class's, 0 − z).
func TestExportHFScratch(t *testing.T) {
	for _, classes := range [][]string{{"finance", "sport", "weather"}, {"ham", "spam"}} {
		t.Run(strings.Join(classes, "-"), func(t *testing.T) {
			dir := scratch(t, classes)
			out := exportHF(t, dir)
			var cfg struct {
				Architectures []string          `json:"architectures"`
				ID2Label      map[string]string `json:"id2label"`
				Label2ID      map[string]int    `json:"label2id"`
				VocabSize     int               `json:"vocab_size"`
			}
			readJSONFile(t, filepath.Join(out, "config.json"), &cfg)
			if !slices.Equal(cfg.Architectures, []string{"BertForSequenceClassification"}) || len(cfg.ID2Label) != len(classes) {
				t.Errorf("config.json: %+v", cfg)
			}
			for i, c := range classes {
				if cfg.ID2Label[string(rune('0'+i))] != c || cfg.Label2ID[c] != i {
					t.Errorf("class %d %s: id2label %v, label2id %v", i, c, cfg.ID2Label, cfg.Label2ID)
				}
			}
			vocab, err := text.ReadVocab(filepath.Join(out, "vocab.txt"))
			if err != nil {
				t.Fatal(err)
			}
			c, err := checkpoint.Open(dir, checkpoint.PickBest)
			if err != nil {
				t.Fatal(err)
			}
			var pre text.Preprocess
			if err := json.Unmarshal(c.Meta.Preprocessing, &pre); err != nil {
				t.Fatal(err)
			}
			// The learned pieces in id order, then "[unusedI]" up to
			// vocab_size, the embedding's rows.
			learned := pre.WordPiece.Tokens()
			if len(vocab) != cfg.VocabSize || !slices.Equal(vocab[:len(learned)], learned) || vocab[len(learned)] != "[unused0]" {
				t.Errorf("vocab.txt has %d tokens, want the model's %d in id order then [unused0]… up to %d", len(vocab), len(learned), cfg.VocabSize)
			}
			var tc map[string]any
			readJSONFile(t, filepath.Join(out, "tokenizer_config.json"), &tc)
			if tc["do_lower_case"] != true || tc["strip_accents"] != nil || tc["tokenize_chinese_chars"] != true ||
				tc["cls_token"] != "[CLS]" || tc["pad_token"] != "[PAD]" || tc["model_max_length"] != 12.0 {
				t.Errorf("tokenizer_config.json: %v", tc)
			}
			ids := scratchIDs(t, dir)
			want := forward(t, dir, ids)
			if len(classes) == 2 {
				// The model's logit scores the first class; an import's
				// scores the second, z₁ − z₀ = −z: the same probabilities.
				for i := range want {
					want[i][0] = -want[i][0]
				}
			}
			if d := maxDiff(t, forward(t, importFixture(t, out), ids), want); d > 1e-6 {
				t.Errorf("re-imported logits differ by %.3g", d)
			}
		})
	}
}

// TestExportHFRefused: the models Hugging Face's classes cannot hold (mean
// pooling, int8; a kind without a Hugging Face form: TestOtherKinds) are
// errors saying why, and the folder rules of writers hold: a folder with files an export did not write is never replaced, an
// earlier export only with replace, a symbolic link or a file never.
func TestExportHFRefused(t *testing.T) {
	dir := scratch(t, []string{"a", "b", "c"})
	c, err := checkpoint.Open(dir, checkpoint.PickBest)
	if err != nil {
		t.Fatal(err)
	}
	mean := *c
	var run textclass.Run
	if err := json.Unmarshal(c.Meta.ModelConfig, &run); err != nil {
		t.Fatal(err)
	}
	var cfg transformer.Config
	if err := json.Unmarshal(run.Model, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Pooling = transformer.Mean
	run.Model, _ = json.Marshal(cfg)
	mean.Meta.ModelConfig, _ = json.Marshal(run)
	if err := export.WriteFile(&mean, export.HF, filepath.Join(t.TempDir(), "x")); err == nil || !strings.Contains(err.Error(), `pooling "mean"`) {
		t.Errorf("mean pooling: %v, want an error naming the pooling", err)
	}

	int8 := *c
	int8.Extra = map[string][]byte{checkpoint.QuantizationFile: []byte(`{"format":"int8"}`)}
	if err := export.WriteFile(&int8, export.HF, filepath.Join(t.TempDir(), "x")); err == nil || !strings.Contains(err.Error(), "int8 checkpoint") {
		t.Errorf("int8: %v, want an error saying so", err)
	}

	base := t.TempDir()
	foreign := filepath.Join(base, "foreign")
	os.Mkdir(foreign, 0o755)
	os.WriteFile(filepath.Join(foreign, "config.json"), []byte("{}"), 0o644)
	os.WriteFile(filepath.Join(foreign, "tokenizer.json"), []byte("{}"), 0o644)
	if err := export.WriteFile(c, export.HF, foreign); !errors.Is(err, atomicfile.ErrRefused) {
		t.Errorf("folder with a tokenizer.json: %v, want refused", err)
	}
	if _, err := os.Stat(filepath.Join(foreign, "tokenizer.json")); err != nil {
		t.Errorf("the foreign folder lost its file: %v", err)
	}
	ours := filepath.Join(base, "ours")
	if err := export.WriteFile(c, export.HF, ours); err != nil {
		t.Fatal(err)
	}
	if err := export.CheckOutput(export.HF, ours, false); !errors.Is(err, atomicfile.ErrExists) {
		t.Errorf("an earlier export without replace: %v, want ErrExists", err)
	}
	if err := export.CheckOutput(export.HF, ours, true); err != nil {
		t.Errorf("an earlier export with replace: %v", err)
	}
	if err := export.WriteFile(c, export.HF, ours); err != nil {
		t.Errorf("replacing an earlier export: %v", err)
	}
	link := filepath.Join(base, "link")
	os.Symlink(ours, link)
	file := filepath.Join(base, "file")
	os.WriteFile(file, nil, 0o644)
	for _, p := range []string{link, file, filepath.Join(dir, "hf")} {
		if err := export.WriteFile(c, export.HF, p); !errors.Is(err, atomicfile.ErrRefused) {
			t.Errorf("%s: %v, want refused", p, err)
		}
	}
	if entries, _ := os.ReadDir(base); len(entries) != 4 {
		t.Errorf("%d entries left in %s, want foreign, ours, link and file (no temporary folders)", len(entries), base)
	}
	if _, err := kinds.ImportFolder("hf", ours); err != nil {
		t.Errorf("the replaced export does not import: %v", err)
	}
}

// TestHFTokenizerConfig: tokenizer_config.json's strip_accents,
// tokenize_chinese_chars and model_max_length are read by the import and
// written back by the export.
func TestHFTokenizerConfig(t *testing.T) {
	dir := copyFixture(t)
	tc := `{"do_lower_case": true, "strip_accents": false, "tokenize_chinese_chars": false, "model_max_length": 10, "tokenizer_class": "BertTokenizer"}`
	if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(tc), 0o644); err != nil {
		t.Fatal(err)
	}
	ckpt := importFixture(t, dir)
	m, err := tapeml.Load(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	if m.MaxLen() != 10 {
		t.Errorf("maxlen %d, want model_max_length 10", m.MaxLen())
	}
	// Accents kept though lower-cased (é is not e, [UNK]); 天气 one word,
	// [UNK] in the fixture's vocabulary (with its defaults: [CLS] e 天 气
	// [SEP], TestImportHF's fixture).
	enc, err := m.EncodeTexts([]string{"É 天气"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{2, 1, 1, 3, 0}; !slices.Equal(enc[:5], want) {
		t.Errorf("encoded %v, want %v…", enc[:5], want)
	}
	d, err := tapeml.Load(importFixture(t, hfFixture))
	if err != nil {
		t.Fatal(err)
	}
	if enc, err = d.EncodeTexts([]string{"É 天气"}); err != nil {
		t.Fatal(err)
	}
	if want := []float32{2, 50, 43, 44, 3}; !slices.Equal(enc[:5], want) {
		t.Errorf("with the fixture's defaults encoded %v, want %v…", enc[:5], want)
	}
	var got map[string]any
	readJSONFile(t, filepath.Join(exportHF(t, ckpt), "tokenizer_config.json"), &got)
	for k, want := range map[string]any{"do_lower_case": true, "strip_accents": false, "tokenize_chinese_chars": false, "model_max_length": 10.0} {
		if got[k] != want {
			t.Errorf("exported tokenizer_config.json %s: %v, want %v", k, got[k], want)
		}
	}
}
