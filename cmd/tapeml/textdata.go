package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/data"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/samples"
	"github.com/tapeml/tapeml/textclass"
	"github.com/tapeml/tapeml/train"
	"gorgonia.org/tensor"
)

// builtinData names the compiled-in SpamAssassin sample in checkpoints.
const builtinData = "builtin:spamassassin-sample"

// dataSource says where a run's data came from, so eval can find the same
// test split again.
type dataSource struct {
	Path    string           `json:"path"` // a file or folder, or builtinData
	Options data.TextOptions `json:"options"`
}

// runConfig is a checkpoint's model_config: the architecture and the data.
type runConfig struct {
	Model json.RawMessage `json:"model"`
	Data  dataSource      `json:"data"`
}

func (s dataSource) load() (*data.TextCorpus, error) {
	if s.Path == builtinData {
		return samples.SpamAssassinWith(s.Options)
	}
	if s.Path == "" {
		return nil, fmt.Errorf("--data is empty: give a file or folder")
	}
	if _, err := os.Stat(s.Path); err != nil {
		return nil, fmt.Errorf("--data %s: no such file or folder", s.Path)
	}
	return data.LoadText(s.Path, s.Options)
}

// loaded is a checkpoint ready to use: its model, weights and preprocessing.
type loaded struct {
	dir     string
	ckpt    *checkpoint.Checkpoint
	kind    textKind
	run     runConfig
	modelCf any
	pre     *textclass.Preprocess
	trainer *train.Trainer
}

// loadCheckpoint opens a checkpoint (or a run folder, whose pick it takes)
// and rebuilds its model with the saved weights.
func loadCheckpoint(path string, pick checkpoint.Pick) (*loaded, error) {
	c, err := openCheckpoint(path, pick)
	if err != nil {
		return nil, err
	}
	return textModelOf(c)
}

// openCheckpoint resolves a checkpoint or run folder and loads it, checking
// every file.
func openCheckpoint(path string, pick checkpoint.Pick) (*checkpoint.Checkpoint, error) {
	if path == "" {
		return nil, fmt.Errorf("--checkpoint is required")
	}
	dir, err := checkpoint.Resolve(path, pick)
	if err != nil {
		return nil, err
	}
	return checkpoint.Load(dir)
}

// textModelOf rebuilds a text model from its checkpoint.
func textModelOf(c *checkpoint.Checkpoint) (*loaded, error) {
	dir := c.Dir
	k, err := kindOf(c.Meta.ModelKind)
	if err != nil {
		return nil, fmt.Errorf("%s/meta.json: %w", dir, err)
	}
	l := &loaded{dir: dir, ckpt: c, kind: k}
	if err := strictJSON(c.Meta.ModelConfig, &l.run); err != nil {
		return nil, fmt.Errorf("%s/meta.json: model_config: %w", dir, err)
	}
	model, cfg, err := k.model(l.run.Model)
	if err != nil {
		return nil, fmt.Errorf("%s/meta.json: %w", dir, err)
	}
	l.modelCf = cfg
	l.pre = &textclass.Preprocess{}
	if err := json.Unmarshal(c.Meta.Preprocessing, l.pre); err != nil || l.pre.Tokenizer == nil {
		return nil, fmt.Errorf("%s/meta.json: preprocessing: missing or invalid tokenizer state (%v)", dir, err)
	}
	tcfg, err := train.ConfigOf(c)
	if err != nil {
		return nil, err
	}
	params := graph.NewParams(tensor.Float32, tcfg.Defaults().Seed)
	if l.trainer, err = train.New(model, params, tcfg); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	if err := train.LoadWeights(params, c.Weights, dir+"/"+checkpoint.WeightsFile); err != nil {
		return nil, err
	}
	return l, nil
}
