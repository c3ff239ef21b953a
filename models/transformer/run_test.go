package transformer_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/internal/testutil/servetest"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/models/transformer"
	"github.com/tapeml/tapeml/textclass"
	"github.com/tapeml/tapeml/train"
)

// topics writes a three-class CSV of short messages, English and Chinese:
// each class has its own words, so a tiny encoder separates them.
func topics(t *testing.T) string {
	t.Helper()
	words := map[string][]string{
		"sport":   {"match", "goal", "team", "coach", "score", "球队", "比赛", "进球"},
		"finance": {"stock", "market", "price", "bank", "loan", "股票", "银行", "贷款"},
		"weather": {"rain", "snow", "cloudy", "storm", "sunny", "下雨", "天气", "暴风"},
	}
	path := filepath.Join(t.TempDir(), "topics.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	w.Write([]string{"text", "label"})
	for i := range 60 {
		for _, label := range []string{"sport", "finance", "weather"} {
			ws := words[label]
			text := fmt.Sprintf("today %s and %s, then %s", ws[i%len(ws)], ws[(i*3+1)%len(ws)], ws[(i*5+2)%len(ws)])
			w.Write([]string{text, label})
		}
	}
	w.Flush()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// newSpec is a training run of the transformer kind with its default
// flags, and the run's architecture to set.
func newSpec(t *testing.T) (*train.RunSpec, *transformer.Config) {
	t.Helper()
	k, err := kinds.Lookup(transformer.Kind)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := train.NewSpec(k)
	if err != nil {
		t.Fatal(err)
	}
	return spec, spec.Config.(*transformer.Config)
}

// TestTrainAndServe trains a tiny encoder on a three-class CSV with
// Chinese texts, then runs every serving path on its checkpoint:
// tapeml.Load and ClassifyTexts, the run's evaluation, and the server's
// v2 inference on text (BYTES), which must answer as the library does.
func TestTrainAndServe(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	ctx := context.Background()
	spec, c := newSpec(t)
	c.VocabSize, c.MaxLen, c.MaxPosition, c.DModel, c.Layers, c.Heads, c.FFN = 120, 16, 16, 16, 1, 2, 32
	spec.Data.(*textclass.Data).Path = topics(t)
	c.Dropout, c.AttnDropout = 0, 0
	spec.Training.Epochs, spec.Training.LR = 15, 5e-3
	spec.Out = filepath.Join(t.TempDir(), "run")
	var progress bytes.Buffer
	spec.Progress = &progress
	res, err := train.Run(ctx, *spec)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	t.Logf("%s", progress.String())
	acc := 0.0
	for _, x := range res.Test.Metrics {
		if x.Name == "accuracy" {
			acc = x.Value
		}
	}
	if acc < 0.8 {
		t.Errorf("test accuracy %.3f on separable topics: the encoder did not learn", acc)
	}

	m, err := tapeml.Load(spec.Out)
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind() != transformer.Kind || len(m.Classes()) != 3 {
		t.Fatalf("loaded a %s model of classes %v", m.Kind(), m.Classes())
	}
	texts := []string{"the team scored a late goal in the match", "银行 贷款 股票", "storm and snow expected, very cloudy", "zzz"}
	preds, err := m.ClassifyTexts(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"sport", "finance", "weather"} {
		if preds[i].Class != want {
			t.Errorf("%q: %s (%v), want %s", texts[i], preds[i].Class, preds[i].Probs, want)
		}
	}
	ids, err := m.EncodeTexts(texts[3:]) // "zzz": shorter than maxlen in any vocabulary
	if err != nil {
		t.Fatal(err)
	}
	if ids[0] != 2 || ids[len(ids)-1] != 0 { // [CLS] is id 2 of a learned vocabulary; padding after
		t.Errorf("encoded %v: want [CLS] first and padding last", ids)
	}
	rep, err := m.EvaluateRunData(ctx, tapeml.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("evaluation: %+v", rep.Metrics)

	ck, err := checkpoint.Open(spec.Out, checkpoint.PickBest)
	if err != nil {
		t.Fatal(err)
	}
	served := servetest.TextProbs(t, ctx, ck, "topics", texts)
	for i, p := range preds {
		for j, v := range p.Probs {
			if math.Abs(float64(served[i*3+j]-v)) > 1e-6 {
				t.Errorf("text %d class %d: served %v, library %v", i, j, served[i*3+j], v)
			}
		}
	}
}
