package export

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tapeml/tapeml/kinds"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/internal/testutil/onnxtest"
	_ "github.com/tapeml/tapeml/models/all"
	"github.com/tapeml/tapeml/models/convnet"
	"github.com/tapeml/tapeml/models/fasttext"
	"github.com/tapeml/tapeml/models/lstm"
	"github.com/tapeml/tapeml/models/mf"
	"github.com/tapeml/tapeml/models/textcnn"
	"github.com/tapeml/tapeml/models/transformer"
	"github.com/tapeml/tapeml/recommender"
	"github.com/tapeml/tapeml/safetensors"
)

// small model configs, in the model_config layout tapeml's trainers write.
func smallConfigs() map[string]any {
	return map[string]any{
		textcnn.Kind:  map[string]any{"model": textcnn.Config{NumWords: 30, EmbedDim: 4, Filters: 3, Kernel: 2, Pool: 2, MaxLen: 8}},
		lstm.Kind:     map[string]any{"model": lstm.Config{NumWords: 30, EmbedDim: 4, Hidden: 3, Layers: 2, Bidirectional: true, Dropout: 0.5, MaxLen: 6}},
		fasttext.Kind: map[string]any{"model": fasttext.Config{NumWords: 30, Buckets: 11, EmbedDim: 4, MaxLen: 6}},
		convnet.Kind:  map[string]any{"model": convnet.Config{Channels: 1, Height: 8, Width: 8, Classes: 3, Dropout: 0.5}},
		transformer.Kind: map[string]any{"model": transformer.Config{VocabSize: 30, MaxLen: 8, MaxPosition: 8, TypeVocab: 2, DModel: 8, Layers: 1, Heads: 2, FFN: 16,
			Eps: 1e-12, Norm: transformer.PostLN, Pooling: transformer.CLS}},
		recommender.Kind: map[string]any{"algo": "mf", "mf": mf.DefaultConfig(5, 7), "data": map[string]any{"path": "ratings.csv"}},
	}
}

// testCheckpoint makes a weights-only checkpoint of a kind with freshly
// initialised weights.
func testCheckpoint(t *testing.T, kind string) *checkpoint.Checkpoint {
	t.Helper()
	raw, err := json.Marshal(smallConfigs()[kind])
	if err != nil {
		t.Fatal(err)
	}
	_, m, err := kinds.Describe(kind, raw, "test")
	if err != nil {
		t.Fatal(err)
	}
	net, err := m.Network()
	if err != nil {
		t.Fatal(err)
	}
	params := graph.NewParams(tensor.Float32, 3)
	if err := graph.Materialize(net.Build, params); err != nil {
		t.Fatal(err)
	}
	c := &checkpoint.Checkpoint{Weights: checkpoint.Weights(params), Extra: map[string][]byte{"history.csv": []byte("epoch\n"), "items.json": []byte("{}")}}
	c.Meta.ModelKind, c.Meta.ModelConfig, c.Meta.WeightsOnly = kind, raw, true
	c.Meta.Preprocessing = json.RawMessage(`{"pad":{"maxlen":8}}`)
	c.Meta.Optimizer = json.RawMessage(`{"epochs":3,"batch":16}`)
	return c
}

func TestSafetensorsExport(t *testing.T) {
	for _, kind := range kinds.Names() {
		t.Run(kind, func(t *testing.T) {
			c := testCheckpoint(t, kind)
			path := filepath.Join(t.TempDir(), "model.safetensors")
			if err := WriteFile(c, Safetensors, path); err != nil {
				t.Fatal(err)
			}
			f, err := safetensors.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Tensors) != len(c.Weights) {
				t.Fatalf("%d tensors, want %d", len(f.Tensors), len(c.Weights))
			}
			for i, w := range c.Weights {
				got := f.Tensors[i]
				if got.Name != w.Name || got.Dtype != w.Dtype || !slices.Equal(got.Shape, w.Shape) || string(got.Data) != string(w.Data) {
					t.Errorf("tensor %d: %s %s %v, want %s %s %v with the same bytes", i, got.Name, got.Dtype, got.Shape, w.Name, w.Dtype, w.Shape)
				}
			}
			want := map[string]string{
				checkpoint.MetaKind: kind, checkpoint.MetaConfig: string(c.Meta.ModelConfig), checkpoint.MetaPreprocessing: string(c.Meta.Preprocessing),
				checkpoint.MetaTraining: string(c.Meta.Optimizer), checkpoint.MetaFormatVersion: "1", "format": "pt",
			}
			for k, v := range want {
				if f.Metadata[k] != v {
					t.Errorf("metadata %s = %q, want %q", k, f.Metadata[k], v)
				}
			}
		})
	}
}

// The PyTorch names, shapes and dtypes of the reference models, as
// tools/pytorch/models.py declares them.
func TestStateDictNames(t *testing.T) {
	c := testCheckpoint(t, convnet.Kind)
	var got []string
	for _, w := range c.Weights {
		got = append(got, w.Name+" "+w.Dtype)
	}
	want := []string{
		"layer1.0.weight F32", "layer1.0.bias F32", "layer1.1.weight F32", "layer1.1.bias F32",
		"layer1.1.running_mean F32", "layer1.1.running_var F32", "layer1.1.num_batches_tracked I64",
		"layer2.0.weight F32", "layer2.0.bias F32", "layer2.1.weight F32", "layer2.1.bias F32",
		"layer2.1.running_mean F32", "layer2.1.running_var F32", "layer2.1.num_batches_tracked I64",
		"fc.0.weight F32", "fc.0.bias F32", "fc.3.weight F32", "fc.3.bias F32", "fc.6.weight F32", "fc.6.bias F32",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("convnet state_dict:\n got %v\nwant %v", got, want)
	}
}

func TestImportRoundTrip(t *testing.T) {
	for _, kind := range kinds.Names() {
		t.Run(kind, func(t *testing.T) {
			c := testCheckpoint(t, kind)
			path := filepath.Join(t.TempDir(), "model.safetensors")
			if err := WriteFile(c, Safetensors, path); err != nil {
				t.Fatal(err)
			}
			var like *checkpoint.Checkpoint
			if kind == recommender.Kind {
				like = c // a recommender needs its checkpoint's training ratings
			}
			got, err := kinds.Import(path, like)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Meta.WeightsOnly || got.Meta.ModelKind != kind || string(got.Meta.ModelConfig) != string(c.Meta.ModelConfig) ||
				string(got.Meta.Preprocessing) != string(c.Meta.Preprocessing) || string(got.Meta.Optimizer) != string(c.Meta.Optimizer) {
				t.Fatalf("imported meta %+v does not match the checkpoint's", got.Meta)
			}
			for i, w := range c.Weights {
				if g := got.Weights[i]; g.Name != w.Name || string(g.Data) != string(w.Data) {
					t.Fatalf("tensor %d: %s differs from %s", i, g.Name, w.Name)
				}
			}
			if like != nil {
				if _, ok := got.Extra["history.csv"]; ok {
					t.Error("the import carried over like's training history")
				}
				if _, ok := got.Extra["items.json"]; !ok {
					t.Error("the import dropped like's items.json")
				}
			}
			// The result is a checkpoint tapeml can save and load.
			dir := filepath.Join(t.TempDir(), "imported")
			if err := checkpoint.Save(dir, got); err != nil {
				t.Fatal(err)
			}
			if _, err := checkpoint.Load(dir); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A state_dict saved by PyTorch, in its own order and without tapeml's
// metadata, imports with like.
func TestImportForeignOrder(t *testing.T) {
	c := testCheckpoint(t, lstm.Kind)
	reversed := slices.Clone(c.Weights)
	slices.Reverse(reversed)
	path := filepath.Join(t.TempDir(), "torch.safetensors")
	if err := safetensors.WriteFile(path, reversed, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := kinds.Import(path, nil); err == nil || !strings.Contains(err.Error(), "checkpoint of the same model") {
		t.Fatalf("import without metadata or like: error %v, want one asking for a checkpoint of the same model", err)
	}
	got, err := kinds.Import(path, c)
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range c.Weights {
		if got.Weights[i].Name != w.Name || string(got.Weights[i].Data) != string(w.Data) {
			t.Fatalf("tensor %d is %s, want %s in state_dict order", i, got.Weights[i].Name, w.Name)
		}
	}
}

func TestImportMismatches(t *testing.T) {
	c := testCheckpoint(t, textcnn.Kind)
	var ts []safetensors.Tensor
	for _, w := range c.Weights {
		switch w.Name {
		case "conv.bias": // left out
		case "fc.bias":
			ts = append(ts, safetensors.F32("fc.bias", []int{2}, []float32{0, 0}))
		case "embedding.weight":
			w.Name = "embed.weight"
			ts = append(ts, w)
		default:
			ts = append(ts, w)
		}
	}
	path := filepath.Join(t.TempDir(), "bad.safetensors")
	if err := safetensors.WriteFile(path, ts, checkpoint.Metadata(c)); err != nil {
		t.Fatal(err)
	}
	_, err := kinds.Import(path, nil)
	if err == nil {
		t.Fatal("mismatched weights imported")
	}
	for _, want := range []string{path, `missing "embedding.weight"`, `missing "conv.bias"`, `"fc.bias" has shape [2], the model expects [1]`, `unexpected tensor "embed.weight"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	good := testCheckpoint(t, convnet.Kind)
	unknown := testCheckpoint(t, convnet.Kind)
	unknown.Meta.ModelKind = "resnet"
	knn := testCheckpoint(t, recommender.Kind)
	knn.Meta.ModelConfig = json.RawMessage(`{"algo":"knn","knn":{"k":40}}`)
	newer := filepath.Join(dir, "newer.safetensors")
	md := checkpoint.Metadata(good)
	md[checkpoint.MetaFormatVersion] = "99"
	if err := safetensors.WriteFile(newer, good.Weights, md); err != nil {
		t.Fatal(err)
	}
	goodFile := filepath.Join(dir, "good.safetensors")
	if err := WriteFile(good, Safetensors, goodFile); err != nil {
		t.Fatal(err)
	}
	notJSON := filepath.Join(dir, "notjson.safetensors")
	md = checkpoint.Metadata(good)
	md[checkpoint.MetaConfig] = "{model"
	if err := safetensors.WriteFile(notJSON, good.Weights, md); err != nil {
		t.Fatal(err)
	}
	// A checkpoint read from a folder and one read from an exported file:
	// neither is exported onto its own files.
	saved := filepath.Join(dir, "ckpt")
	if err := checkpoint.Save(saved, good); err != nil {
		t.Fatal(err)
	}
	fromDir, err := checkpoint.Open(saved, checkpoint.PickBest)
	if err != nil {
		t.Fatal(err)
	}
	fromFile, err := checkpoint.Open(goodFile, checkpoint.PickBest)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		err  func() error
		want []string
	}{
		{"onto its weights", func() error { return WriteFile(fromDir, Safetensors, filepath.Join(saved, checkpoint.WeightsFile)) }, []string{"is inside the input " + saved}},
		{"onto its own file", func() error { return WriteFile(fromFile, ONNX, goodFile) }, []string{goodFile + " is the input"}},
		{"unknown kind", func() error { return WriteFile(unknown, Safetensors, filepath.Join(dir, "a.safetensors")) }, []string{`unknown model kind "resnet"`}},
		{"unknown format", func() error { return WriteFile(good, Format("tflite"), filepath.Join(dir, "a.tflite")) }, []string{`"tflite"`, "safetensors, onnx or hf"}},
		{"unwritable path", func() error { return WriteFile(good, Safetensors, filepath.Join(dir, "no", "such", "a.safetensors")) }, []string{filepath.Join(dir, "no", "such")}},
		{"knn to onnx", func() error { return WriteFile(knn, ONNX, filepath.Join(dir, "a.onnx")) }, []string{"recsys (knn)", "not a network"}},
		{"newer format", func() error { _, err := kinds.Import(newer, nil); return err }, []string{newer, checkpoint.MetaFormatVersion, `"99"`}},
		{"bad metadata JSON", func() error { _, err := kinds.Import(notJSON, nil); return err }, []string{notJSON, checkpoint.MetaConfig}},
		{"missing file", func() error { _, err := kinds.Import(filepath.Join(dir, "none.safetensors"), nil); return err }, []string{"none.safetensors"}},
		{"kind mismatch", func() error { _, err := kinds.Import(goodFile, testCheckpoint(t, textcnn.Kind)); return err }, []string{"convnet", "textcnn"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err()
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := checkpoint.Load(saved); err != nil {
		t.Errorf("the checkpoint changed: %v", err)
	}
	// Nothing but the four fixtures was left behind.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("files left behind: %v", names)
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"safetensors": Safetensors, "ONNX": ONNX} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseFormat("safetensor"); err == nil {
		t.Error("a misspelt format parsed")
	}
}

var update = flag.Bool("update", false, "rewrite testdata/textcnn, the Example's checkpoint")

// testdata/textcnn is a small checkpoint for the Example.
func TestTestdata(t *testing.T) {
	dir := filepath.Join("testdata", "textcnn")
	if *update {
		if err := checkpoint.Save(dir, testCheckpoint(t, textcnn.Kind)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := checkpoint.Load(dir); err != nil {
		t.Fatalf("%v (regenerate with go test ./export -run Testdata -update)", err)
	}
}

// The ONNX export reads back with the checkpoint's metadata and the graph
// inputs and outputs the README documents.
func TestONNXExport(t *testing.T) {
	io := map[string][2][]string{
		textcnn.Kind:     {{"ids"}, {"logits", "probs"}},
		lstm.Kind:        {{"ids"}, {"logits", "probs"}},
		fasttext.Kind:    {{"ids"}, {"logits", "probs"}},
		convnet.Kind:     {{"images"}, {"logits", "probs"}},
		recommender.Kind: {{"user", "item"}, {"rating"}},
	}
	for _, kind := range kinds.Names() {
		t.Run(kind, func(t *testing.T) {
			c := testCheckpoint(t, kind)
			path := filepath.Join(t.TempDir(), "model.onnx")
			if _, ok := io[kind]; !ok { // a kind without an ONNX form says so
				if err := WriteFile(c, ONNX, path); err == nil || !strings.Contains(err.Error(), "not a network with an ONNX form") {
					t.Fatalf("ONNX export of %s: %v, want an error saying it has no ONNX form", kind, err)
				}
				return
			}
			if err := WriteFile(c, ONNX, path); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			m, err := onnxtest.Unmarshal(b)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range checkpoint.Metadata(c) {
				if m.Metadata[k] != v {
					t.Errorf("metadata_props %s = %q, want %q", k, m.Metadata[k], v)
				}
			}
			var ins, outs []string
			for _, v := range m.Graph.Inputs {
				ins = append(ins, v.Name)
			}
			for _, v := range m.Graph.Outputs {
				outs = append(outs, v.Name)
			}
			if want := io[kind]; !slices.Equal(ins, want[0]) || !slices.Equal(outs, want[1]) {
				t.Errorf("inputs %v, outputs %v; want %v, %v", ins, outs, want[0], want[1])
			}
		})
	}
}
