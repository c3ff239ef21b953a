package export

import (
	"path/filepath"
	"testing"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/safetensors"
)

// FuzzImportMetadata gives Import a valid TextCNN weight file whose
// __metadata__ (kind, model config, preprocessing, format version) is
// arbitrary: Import must fail with an error or return a checkpoint, never
// panic or allocate what the metadata asks for.
func FuzzImportMetadata(f *testing.F) {
	good, err := checkpoint.Load(filepath.Join("testdata", "textcnn"))
	if err != nil {
		f.Fatal(err)
	}
	md := checkpoint.Metadata(good)
	f.Add(md[checkpoint.MetaKind], md[checkpoint.MetaConfig], md[checkpoint.MetaPreprocessing], md[checkpoint.MetaFormatVersion])
	f.Add("textcnn", `{"model":{"num_words":2000000000,"embed_dim":64,"filters":8,"kernel":3,"pool":2,"maxlen":20}}`, md[checkpoint.MetaPreprocessing], "1")
	f.Add("lstm", `{"model":{"num_words":30,"embed_dim":4,"hidden":1000000,"layers":1,"maxlen":8}}`, md[checkpoint.MetaPreprocessing], "1")
	f.Add("convnet", `{"model":{"channels":3,"height":20000,"width":20000,"classes":10}}`, `{"pipeline":{}}`, "1")
	f.Add("recsys", `{"model":{"users":5,"items":5}}`, `{}`, "1")
	f.Add("textcnn", `{"model":{}}`, ``, "2")
	dir := f.TempDir() // one file, rewritten: cheaper than a folder per input
	f.Fuzz(func(t *testing.T, kind, config, pre, version string) {
		m := map[string]string{checkpoint.MetaKind: kind, checkpoint.MetaConfig: config, checkpoint.MetaPreprocessing: pre, checkpoint.MetaFormatVersion: version}
		path := filepath.Join(dir, "w.safetensors")
		if err := safetensors.WriteFile(path, good.Weights, m); err != nil {
			t.Fatal(err)
		}
		c, err := kinds.Import(path, nil)
		if err != nil {
			return
		}
		if c.Meta.ModelKind != kind || !c.Meta.WeightsOnly {
			t.Fatalf("imported %+v", c.Meta)
		}
	})
}
