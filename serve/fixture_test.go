package serve_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/imagedata"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/models/convnet"
	"github.com/tapeml/tapeml/train"
)

// convnetCheckpoint saves a small ConvNet (8×8 images, 3 classes) with
// seeded random weights and non-trivial batch-norm statistics, as the
// root package's tests make it.
func convnetCheckpoint(t testing.TB, channels int) string {
	t.Helper()
	cfg := convnet.Config{Channels: channels, Height: 8, Width: 8, Classes: 3, Dropout: 0.5}
	net, err := convnet.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	params := graph.NewParams(tensor.Float32, 7)
	if err := graph.Materialize(net.Build, params); err != nil {
		t.Fatal(err)
	}
	for _, p := range params.List() {
		if strings.HasSuffix(p.Name, "running_var") || strings.HasSuffix(p.Name, "running_mean") {
			for i, v := range p.Value.Float32s() {
				p.Value.Float32s()[i] = v + 0.3 + 0.1*float32(i%5)
			}
		}
	}
	pipe, err := imagedata.NewPipeline(channels, 8, 8, nil, []float64{0.3, 0.4, 0.5}[:channels], []float64{0.2, 0.25, 0.3}[:channels])
	if err != nil {
		t.Fatal(err)
	}
	run, err := json.Marshal(kinds.ImageRun{Model: cfg, Data: kinds.ImageSource{Path: "images/"}})
	if err != nil {
		t.Fatal(err)
	}
	pre, err := json.Marshal(kinds.ImagePreprocessing{Pipeline: pipe, Classes: []string{"a", "b", "c"}})
	if err != nil {
		t.Fatal(err)
	}
	c := &checkpoint.Checkpoint{Weights: train.Weights(params), Extra: map[string][]byte{}}
	c.Meta.ModelKind, c.Meta.ModelConfig, c.Meta.Preprocessing, c.Meta.WeightsOnly = convnet.Kind, run, pre, true
	dir := filepath.Join(t.TempDir(), "convnet")
	if err := checkpoint.Save(dir, c); err != nil {
		t.Fatal(err)
	}
	return dir
}
