package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tapeml/tapeml/safetensors"
)

var update = flag.Bool("update", false, "rewrite golden files")

// sample returns a small but complete checkpoint at the given epoch.
func sample(epoch int, weightsOnly bool) *Checkpoint {
	c := &Checkpoint{
		Meta: Meta{
			ModelKind:      "textcnn",
			ModelConfig:    json.RawMessage(`{"embed_dim":8,"filters":[3,4,5]}`),
			Preprocessing:  json.RawMessage(`{"maxlen":20,"word_index":{"<OOV>":1,"free":2}}`),
			Epoch:          epoch,
			Step:           int64(epoch) * 10,
			RNG:            RNGState{Seed: 42, State: json.RawMessage(`{"draws":1234}`)},
			Optimizer:      json.RawMessage(`{"kind":"adam","lr":0.001}`),
			OptimizerState: json.RawMessage(`{"step":30}`),
			Schedule:       json.RawMessage(`{"kind":"plateau","patience":2}`),
			ScheduleState:  json.RawMessage(`{"bad_epochs":1}`),
			History:        json.RawMessage(`[{"epoch":1,"loss":0.7}]`),
			WeightsOnly:    weightsOnly,
			Best:           &BestMetric{Metric: "val_loss", Mode: "min", Value: 0.5, Epoch: epoch},
		},
		Weights: []safetensors.Tensor{
			safetensors.F32("fc.weight", []int{2, 3}, []float32{1, 2, 3, 4, 5, float32(epoch)}),
			safetensors.F32("fc.bias", []int{2}, []float32{-1, 1}),
			safetensors.I64("bn.num_batches_tracked", []int{}, []int64{int64(epoch)}),
		},
		Extra: map[string][]byte{"history.csv": []byte("epoch,loss\n1,0.7\n")},
	}
	if !weightsOnly {
		c.Optimizer = []safetensors.Tensor{
			safetensors.F32("fc.weight.exp_avg", []int{2, 3}, []float32{0.1, 0.2, 0.3, 0.4, 0.5, 0.6}),
			safetensors.F32("fc.weight.exp_avg_sq", []int{2, 3}, make([]float32, 6)),
		}
	}
	return c
}

func mustSave(t *testing.T, dir string, c *Checkpoint) {
	t.Helper()
	if err := Save(dir, c); err != nil {
		t.Fatalf("Save: %v", err)
	}
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not contain %q", err, p)
		}
	}
}

// listDir returns the names in dir, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		c    *Checkpoint
	}{
		{"full", sample(3, false)},
		{"weights only", sample(3, true)},
		{"bare", &Checkpoint{Meta: Meta{ModelKind: "mlp", Optimizer: json.RawMessage(`{"kind":"sgd"}`)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ckpt")
			mustSave(t, dir, tc.c)
			got, err := Load(dir)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got.Dir != dir {
				t.Errorf("Dir = %q, want %q", got.Dir, dir)
			}
			// meta.json is indented, so compare the raw fields compacted.
			if g, w := compactJSON(t, got.Meta), compactJSON(t, tc.c.Meta); g != w {
				t.Errorf("Meta:\n got %s\nwant %s", g, w)
			}
			if got.Meta.FormatVersion != FormatVersion || len(got.Meta.Files) == 0 {
				t.Errorf("Save did not fill in format_version and files: %+v", got.Meta)
			}
			sameTensors(t, "weights", got.Weights, tc.c.Weights)
			sameTensors(t, "optimizer", got.Optimizer, tc.c.Optimizer)
			if len(got.Extra) != len(tc.c.Extra) || (len(got.Extra) > 0 && !reflect.DeepEqual(got.Extra, tc.c.Extra)) {
				t.Errorf("Extra = %q, want %q", got.Extra, tc.c.Extra)
			}
			_, hasOptimizer := got.Meta.Files[OptimizerFile]
			if hasOptimizer == tc.c.Meta.WeightsOnly {
				t.Errorf("optimizer file listed: %v, weights only: %v", hasOptimizer, tc.c.Meta.WeightsOnly)
			}
			// model.safetensors is a plain safetensors file for PyTorch.
			f, err := safetensors.ReadFile(filepath.Join(dir, WeightsFile))
			if err != nil || f.Metadata["format"] != "pt" {
				t.Errorf("model.safetensors: %v, metadata %v", err, f)
			}
			if left := listDir(t, filepath.Dir(dir)); !slices.Equal(left, []string{"ckpt"}) {
				t.Errorf("parent holds %v, want only ckpt", left)
			}
		})
	}
}

func compactJSON(t *testing.T, m Meta) string {
	t.Helper()
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

func sameTensors(t *testing.T, what string, got, want []safetensors.Tensor) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d tensors, want %d", what, len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Name != w.Name || g.Dtype != w.Dtype || !slices.Equal(g.Shape, w.Shape) || !bytes.Equal(g.Data, w.Data) {
			t.Errorf("%s[%d] = %+v, want %+v", what, i, g, w)
		}
	}
}

// TestMetaGolden pins meta.json's layout, including the checksums of the
// deterministic safetensors files.
func TestMetaGolden(t *testing.T) {
	dir := t.TempDir()
	mustSave(t, dir, sample(3, false))
	got, err := os.ReadFile(filepath.Join(dir, MetaFile))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "meta.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("meta.json differs from %s:\n%s", golden, got)
	}
}

func TestDetectsDamage(t *testing.T) {
	truncate := func(b []byte) []byte { return b[:len(b)-3] }
	flip := func(b []byte) []byte { b[len(b)/2] ^= 0x10; return b }
	tests := []struct {
		file   string
		damage func([]byte) []byte // nil deletes the file
		want   string
	}{
		{WeightsFile, truncate, "bytes, meta.json says"},
		{WeightsFile, flip, "sha256 mismatch (file corrupted or truncated)"},
		{WeightsFile, nil, "missing (listed in meta.json)"},
		{OptimizerFile, truncate, "(file truncated or corrupted)"},
		{OptimizerFile, flip, "sha256 mismatch"},
		{OptimizerFile, nil, "missing"},
		{"history.csv", truncate, "(file truncated or corrupted)"},
		{"history.csv", flip, "sha256 mismatch"},
		{"history.csv", nil, "missing"},
		{MetaFile, truncate, "invalid JSON (file corrupted or truncated)"},
		{MetaFile, nil, "no meta.json (not a checkpoint directory)"},
	}
	for _, tc := range tests {
		name := tc.file + "/delete"
		if tc.damage != nil {
			name = tc.file + "/" + strings.Fields(tc.want)[0]
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			mustSave(t, dir, sample(1, false))
			path := filepath.Join(dir, tc.file)
			if tc.damage == nil {
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
			} else {
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, tc.damage(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Load(dir)
			named := path
			if tc.file == MetaFile && tc.damage == nil {
				named = dir
			}
			wantErr(t, err, named, tc.want)
		})
	}
}

// rewriteMeta edits meta.json as a generic JSON object.
func rewriteMeta(t *testing.T, dir string, edit func(map[string]any)) {
	t.Helper()
	path := filepath.Join(dir, MetaFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	if raw, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadRejectsMeta(t *testing.T) {
	tests := []struct {
		name string
		edit func(map[string]any)
		want string
	}{
		{"newer version", func(m map[string]any) { m["format_version"] = 2 }, "format version 2 is newer than this tapeml supports (1); upgrade tapeml"},
		{"no version", func(m map[string]any) { delete(m, "format_version") }, "no format_version"},
		{"zero version", func(m map[string]any) { m["format_version"] = 0 }, "invalid format_version 0"},
		{"wrong type", func(m map[string]any) { m["epoch"] = "three" }, "meta.json"},
		{"weights-only with optimizer", func(m map[string]any) { m["weights_only"] = true }, "weights_only is true but files lists optimizer.safetensors"},
		{"optimizer unlisted", func(m map[string]any) { delete(m["files"].(map[string]any), OptimizerFile) }, "files does not list optimizer.safetensors"},
		{"weights unlisted", func(m map[string]any) { delete(m["files"].(map[string]any), WeightsFile) }, "files does not list model.safetensors"},
		{"path escape", func(m map[string]any) {
			m["files"].(map[string]any)["../secret"] = map[string]any{"sha256": "", "size": 0}
		}, `"../secret" is not a plain file name`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			mustSave(t, dir, sample(1, false))
			rewriteMeta(t, dir, tc.edit)
			_, err := Load(dir)
			wantErr(t, err, dir, tc.want)
		})
	}
}

func TestCorruptSafetensorsWithMatchingChecksum(t *testing.T) {
	// A file that was written wrong (not damaged later) passes the checksum
	// and must still be caught by the safetensors validation.
	dir := t.TempDir()
	mustSave(t, dir, sample(1, false))
	path := filepath.Join(dir, WeightsFile)
	bad := []byte("\x08\x00\x00\x00\x00\x00\x00\x00{}      \x00")
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(bad)
	rewriteMeta(t, dir, func(m map[string]any) {
		m["files"].(map[string]any)[WeightsFile] = map[string]any{"sha256": hex.EncodeToString(sum[:]), "size": len(bad)}
	})
	_, err := Load(dir)
	wantErr(t, err, path, "data buffer has 1 bytes but tensors cover only the first 0")
}

func TestSaveIsAtomic(t *testing.T) {
	injected := errors.New("disk full (injected)")
	tests := []struct {
		name   string
		failAt string // file after which afterWrite fails
		mutate func(*Checkpoint)
		want   string
	}{
		{"fails after weights", WeightsFile, nil, "writing model.safetensors: disk full"},
		{"fails after optimizer", OptimizerFile, nil, "writing optimizer.safetensors: disk full"},
		{"fails after extra file", "history.csv", nil, "writing history.csv: disk full"},
		{"fails after meta.json", MetaFile, nil, "writing meta.json: disk full"},
		{"invalid optimizer tensor", "", func(c *Checkpoint) {
			c.Optimizer = append(c.Optimizer, safetensors.Tensor{Name: "bad", Dtype: "F32", Shape: []int{3}, Data: []byte{1}})
		}, `writing optimizer.safetensors: tensor "bad"`},
		{"NaN best metric", "", func(c *Checkpoint) { c.Meta.Best.Value = math.NaN() }, "meta.best.value is NaN"},
		{"weights-only with optimizer", "", func(c *Checkpoint) { c.Meta.WeightsOnly = true }, "weights-only but has 2 optimizer tensors"},
		{"empty model kind", "", func(c *Checkpoint) { c.Meta.ModelKind = "" }, "model_kind is empty"},
		{"invalid raw JSON", "", func(c *Checkpoint) { c.Meta.History = json.RawMessage(`[1,`) }, "meta.history is not valid JSON"},
		{"bad best mode", "", func(c *Checkpoint) { c.Meta.Best.Mode = "lowest" }, `meta.best.mode is "lowest"`},
		{"extra file with path", "", func(c *Checkpoint) { c.Extra["../x"] = nil }, `"../x" is not a plain file name`},
		{"extra file hidden", "", func(c *Checkpoint) { c.Extra[".x"] = nil }, `".x" is not a plain file name`},
		{"extra file shadows", "", func(c *Checkpoint) { c.Extra[WeightsFile] = nil }, "would overwrite"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "ckpt")
			mustSave(t, dir, sample(1, false))
			before, _ := os.ReadFile(filepath.Join(dir, MetaFile))

			next := sample(2, false)
			if tc.mutate != nil {
				tc.mutate(next)
			}
			afterWrite = func(name string) error {
				if name == tc.failAt {
					return injected
				}
				return nil
			}
			defer func() { afterWrite = nil }()
			err := Save(dir, next)
			wantErr(t, err, dir, tc.want)

			if left := listDir(t, parent); !slices.Equal(left, []string{"ckpt"}) {
				t.Errorf("after failed save the parent holds %v, want only ckpt", left)
			}
			c, err := Load(dir)
			if err != nil {
				t.Fatalf("previous checkpoint damaged: %v", err)
			}
			after, _ := os.ReadFile(filepath.Join(dir, MetaFile))
			if c.Meta.Epoch != 1 || !bytes.Equal(before, after) {
				t.Errorf("previous checkpoint changed: epoch %d", c.Meta.Epoch)
			}
		})
	}
}

func TestSaveReplaces(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "ckpt")
	mustSave(t, dir, sample(1, false))
	mustSave(t, dir, sample(2, true)) // the weights-only one drops optimizer.safetensors
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Meta.Epoch != 2 || !c.Meta.WeightsOnly {
		t.Errorf("got epoch %d, weights-only %v", c.Meta.Epoch, c.Meta.WeightsOnly)
	}
	if _, err := os.Stat(filepath.Join(dir, OptimizerFile)); err == nil {
		t.Error("optimizer.safetensors of the replaced checkpoint survived")
	}
	if left := listDir(t, parent); !slices.Equal(left, []string{"ckpt"}) {
		t.Errorf("parent holds %v, want only ckpt", left)
	}
}

func TestSaveRefusesToClobber(t *testing.T) {
	parent := t.TempDir()
	notes := filepath.Join(parent, "notes")
	if err := os.Mkdir(notes, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(notes, "todo.txt"), []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	wantErr(t, Save(notes, sample(1, false)), notes, "is not empty and is not a checkpoint; refusing")
	file := filepath.Join(parent, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	wantErr(t, Save(file, sample(1, false)), "is a file (a folder goes there)")
	if data, _ := os.ReadFile(filepath.Join(notes, "todo.txt")); string(data) != "keep me" {
		t.Error("user file was touched")
	}
	empty := filepath.Join(parent, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	mustSave(t, empty, sample(1, false))
}

func TestLoadPointsToInterruptedSave(t *testing.T) {
	parent := t.TempDir()
	if err := os.Mkdir(filepath.Join(parent, ".ckpt.old-123"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Load(filepath.Join(parent, "ckpt"))
	wantErr(t, err, "no meta.json", "interrupted save left", ".ckpt.old-123")
}

func TestCanResume(t *testing.T) {
	dir := t.TempDir()
	mustSave(t, dir, sample(1, true))
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, c.CanResume(), "checkpoint "+dir+" is weights-only (no optimizer state): it can be evaluated, run and fine-tuned from, but not resumed")

	mustSave(t, dir, sample(1, false))
	if c, err = Load(dir); err != nil {
		t.Fatal(err)
	}
	if err := c.CanResume(); err != nil {
		t.Errorf("full checkpoint: CanResume = %v", err)
	}
	c.Meta.Optimizer = nil
	wantErr(t, c.CanResume(), "records no optimizer settings")
}
