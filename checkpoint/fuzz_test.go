package checkpoint_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/imagedata"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/text"
)

// fuzzTemplate is a saved checkpoint's files (name → bytes), made once:
// each fuzz input replaces its meta.json.
var fuzzTemplate = sync.OnceValues(func() (map[string][]byte, error) {
	dir, err := os.MkdirTemp("", "fuzz-ckpt")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	tok := text.NewTokenizer(text.TokenizerConfig{NumWords: 10, OOVToken: "<OOV>"})
	tok.Fit([]string{"free money now", "see you at lunch"})
	pre, err := json.Marshal(&text.Preprocess{Tokenizer: tok, Pad: text.PadConfig{MaxLen: 5}, Classes: []string{"ham", "spam"}, Positive: 1})
	if err != nil {
		return nil, err
	}
	c := &checkpoint.Checkpoint{
		Meta: checkpoint.Meta{
			ModelKind:     "textcnn",
			ModelConfig:   json.RawMessage(`{"model":{"num_words":10,"embed_dim":2,"filters":2,"kernel":2,"pool":2,"maxlen":5}}`),
			Preprocessing: pre,
			Epoch:         1,
			Optimizer:     json.RawMessage(`{"kind":"adam","lr":0.001}`),
			Best:          &checkpoint.BestMetric{Metric: "val_loss", Mode: "min", Value: 0.5, Epoch: 1},
		},
		Weights:   []safetensors.Tensor{safetensors.F32("fc.bias", []int{1}, []float32{0.5})},
		Optimizer: []safetensors.Tensor{safetensors.F32("fc.bias.exp_avg", []int{1}, []float32{0})},
		Extra:     map[string][]byte{"history.csv": []byte("epoch,loss\n1,0.7\n")},
	}
	if err := checkpoint.Save(dir, c); err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if files[e.Name()], err = os.ReadFile(filepath.Join(dir, e.Name())); err != nil {
			return nil, err
		}
	}
	return files, nil
})

// FuzzLoad feeds Load arbitrary meta.json files next to valid checkpoint
// files, then decodes the preprocessing as the text and image loaders do.
// Load must return an error or a checkpoint, never panic or hang.
func FuzzLoad(f *testing.F) {
	files, err := fuzzTemplate()
	if err != nil {
		f.Fatal(err)
	}
	meta := files[checkpoint.MetaFile]
	f.Add(meta)
	f.Add(meta[:len(meta)/2])
	f.Add([]byte(`{"format_version":1,"model_kind":"x","files":{"model.safetensors":{"sha256":"","size":-1}}}`))
	f.Add([]byte(`{"format_version":1,"model_kind":"x","weights_only":true,"files":{"model.safetensors":{"sha256":"","size":99999999999}}}`))
	f.Add([]byte(`{"format_version":1,"files":{"../x":{}}}`))
	f.Add([]byte(`{"format_version":1,"preprocessing":{"pipeline":{"channels":3,"height":100000,"width":100000}}}`))
	// One folder: the checkpoint files written once, meta.json per input.
	dir := f.TempDir()
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, meta []byte) {
		if err := os.WriteFile(filepath.Join(dir, checkpoint.MetaFile), meta, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := checkpoint.Load(dir)
		if err != nil {
			if bytes.Equal(meta, files[checkpoint.MetaFile]) {
				t.Fatalf("the template checkpoint does not load: %v", err)
			}
			return
		}
		_ = c.CanResume()
		var pre text.Preprocess
		if json.Unmarshal(c.Meta.Preprocessing, &pre) == nil && pre.Validate(len(pre.Classes), 10, 5) == nil {
			if _, err := pre.IDs([]string{"free lunch now"}); err != nil {
				t.Errorf("validated preprocessing fails: %v", err)
			}
		}
		var img struct {
			Pipeline json.RawMessage `json:"pipeline"`
		}
		if json.Unmarshal(c.Meta.Preprocessing, &img) == nil && len(img.Pipeline) > 0 {
			_, _ = imagedata.ParsePipeline(img.Pipeline)
		}
	})
}
