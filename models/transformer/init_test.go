package transformer_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/export"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/tapemltest"
	"github.com/tapeml/tapeml/textclass"
	"github.com/tapeml/tapeml/train"
)

// labelled writes a CSV of short messages in the fixture's vocabulary,
// each class with words of its own.
func labelled(t *testing.T, words map[string][]string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data.csv")
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"text", "label"})
	labels := make([]string, 0, len(words))
	for l := range words {
		labels = append(labels, l)
	}
	slices.Sort(labels)
	for i := range 30 {
		for _, l := range labels {
			ws := words[l]
			w.Write([]string{fmt.Sprintf("the %s, a %s %s!", ws[i%len(ws)], ws[(i*3+1)%len(ws)], ws[(i*5+2)%len(ws)]), l})
		}
	}
	w.Flush()
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// importFixture imports the Hugging Face fixture dir into a checkpoint.
func importFixture(t *testing.T, dir string) string {
	t.Helper()
	c, err := kinds.ImportFolder("hf", dir)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "imported")
	if err := checkpoint.Save(out, c); err != nil {
		t.Fatal(err)
	}
	return out
}

// initSpec is a run of the transformer started from the checkpoint init
// on the CSV data.
func initSpec(t *testing.T, init, data string, progress *bytes.Buffer) *train.RunSpec {
	t.Helper()
	spec, _ := newSpec(t)
	spec.Init = init
	spec.Data.(*textclass.Data).Path = data
	spec.Data.(*textclass.Data).Crop = 0
	spec.Set["crop"] = true
	spec.Training.Epochs, spec.Training.LR, spec.Training.Batch = 3, 3e-3, 16
	spec.Out = filepath.Join(t.TempDir(), "run")
	spec.Progress = progress
	return spec
}

// TestInitFreshHead fine-tunes the imported BERT and DistilBERT fixtures
// (three classes) on data of four classes and of two (a binary head):
// the classifier is initialized afresh, as Hugging Face's
// from_pretrained(num_labels=N, ignore_mismatched_sizes=True) does, every
// other tensor is the checkpoint's, and the validation loss improves.
func TestInitFreshHead(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	four := labelled(t, map[string][]string{
		"finance": {"bank", "loan", "stock", "cash", "money"},
		"meeting": {"meeting", "monday", "see you", "at"},
		"sport":   {"team", "goal", "win", "prize"},
		"weather": {"rain", "snow", "天气", "下雨"},
	})
	two := labelled(t, map[string][]string{
		"ham":  {"meeting", "monday", "see you", "team"},
		"spam": {"free", "money", "click now", "cash", "prize"},
	})
	for _, tc := range []struct {
		fixture, data string
		classes       []string
		head          string // the fresh classifier's shapes, as the line says
	}{
		{hfFixture, four, []string{"finance", "meeting", "sport", "weather"}, "classifier.weight [4 32], classifier.bias [4]"},
		{"testdata/hf-distilbert", two, []string{"ham", "spam"}, "classifier.weight [1 32], classifier.bias [1]"},
	} {
		t.Run(filepath.Base(tc.fixture)+"-"+fmt.Sprint(len(tc.classes)), func(t *testing.T) {
			init := importFixture(t, tc.fixture)
			var progress bytes.Buffer
			spec := initSpec(t, init, tc.data, &progress)
			res, err := train.Run(context.Background(), *spec)
			if err != nil {
				t.Fatalf("%v\n%s", err, progress.String())
			}
			t.Logf("%s", progress.String())
			if want := "freshly initialized " + tc.head + " (seed 1); every other tensor from " + init; !strings.Contains(progress.String(), want) {
				t.Errorf("progress does not say %q", want)
			}
			m, err := tapeml.Load(res.Checkpoint)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(m.Classes(), tc.classes) {
				t.Errorf("classes %v, want %v", m.Classes(), tc.classes)
			}
			ck, err := checkpoint.Open(spec.Out, checkpoint.PickLatest)
			if err != nil {
				t.Fatal(err)
			}
			var hist metrics.History
			if err := json.Unmarshal(ck.Meta.History, &hist); err != nil {
				t.Fatal(err)
			}
			val := hist.Column("val/loss")
			if len(val) != spec.Training.Epochs {
				t.Fatalf("history columns %v: no val/loss per epoch", hist.Columns())
			}
			first, last := val[0], val[len(val)-1]
			t.Logf("val/loss by epoch: %.3f", val)
			if !(last < first) || !(last < math.Log(float64(len(tc.classes)))) {
				t.Errorf("val_loss %v → %v (chance %.3f): fine-tuning did not improve it", first, last, math.Log(float64(len(tc.classes))))
			}
		})
	}
}

// TestInitMismatch: a fresh head replaces the classifier only; a
// checkpoint whose encoder disagrees with its configuration (a layer's
// width) stays an error naming the tensor.
func TestInitMismatch(t *testing.T) {
	init := importFixture(t, hfFixture)
	c, err := checkpoint.Open(init, checkpoint.PickBest)
	if err != nil {
		t.Fatal(err)
	}
	const bad = "bert.encoder.layer.1.intermediate.dense.weight"
	for i, w := range c.Weights {
		if w.Name == bad {
			c.Weights[i] = safetensors.F32(bad, []int{48, 32}, make([]float32, 48*32))
		}
	}
	damaged := filepath.Join(t.TempDir(), "damaged")
	if err := checkpoint.Save(damaged, c); err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	four := labelled(t, map[string][]string{"a": {"rain"}, "b": {"snow"}, "c": {"bank"}, "d": {"loan"}})
	spec := initSpec(t, damaged, four, &progress)
	spec.Training.Epochs = 1
	_, err = train.Run(context.Background(), *spec)
	if err == nil || !strings.Contains(err.Error(), bad) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v, want one line naming %s", err, bad)
	}
	t.Logf("%v", err)
}

// TestOtherKinds: a kind whose configuration cannot initialize a fresh
// head (textcnn) still refuses data of other classes than its
// checkpoint's, and one without a Hugging Face form says which kinds have
// one.
func TestOtherKinds(t *testing.T) {
	dir, _, err := tapemltest.Save("textcnn", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c, err := checkpoint.Open(dir, checkpoint.PickBest)
	if err != nil {
		t.Fatal(err)
	}
	if err := export.WriteFile(c, export.HF, filepath.Join(t.TempDir(), "x")); err == nil || !strings.Contains(err.Error(), "no Hugging Face form: Hugging Face export covers transformer") {
		t.Errorf("textcnn: %v, want an error naming the kinds that have a Hugging Face form", err)
	}
	k, err := kinds.Lookup("textcnn")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := train.NewSpec(k)
	if err != nil {
		t.Fatal(err)
	}
	spec.Init = dir
	spec.Data.(*textclass.Data).Path = labelled(t, map[string][]string{"a": {"rain"}, "b": {"snow"}, "c": {"bank"}})
	spec.Out = filepath.Join(t.TempDir(), "run")
	_, err = train.Run(context.Background(), *spec)
	if err == nil || !strings.Contains(err.Error(), `has classes ["a" "b" "c"], the checkpoint's model ["neg" "pos"]`) {
		t.Fatalf("err = %v, want the classes named", err)
	}
}
