package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"sort"
	"strings"

	"github.com/tapeml/tapeml/models/textcnn"
	"github.com/tapeml/tapeml/train"
	"github.com/tapeml/tapeml/train/optim"
)

// textKind is a text-classification model kind: its architecture flags and
// defaults, and how to make the model from its saved configuration.
type textKind struct {
	name    string
	summary string
	// config returns the default architecture, and binds its fields to
	// flags when fs is not nil.
	config func(fs *flag.FlagSet) any
	// model makes the model from a configuration in JSON.
	model func(cfg json.RawMessage) (train.Model, any, error)
	// maxLen reads the sequence length of a configuration.
	maxLen func(cfg any) int
	// numWords reads the vocabulary size of a configuration.
	numWords func(cfg any) int
	// training is the reference training configuration.
	training train.Config
}

var kinds = map[string]textKind{
	textcnn.Kind: {
		name:    textcnn.Kind,
		summary: "embedding → Conv1D → max-pool → dense; binary text classifier (spam, sentiment)",
		config: func(fs *flag.FlagSet) any {
			c := textcnn.DefaultConfig()
			if fs != nil {
				fs.IntVar(&c.NumWords, "num-words", c.NumWords, "vocabulary size: the num_words−1 most frequent training words, id 0 is padding")
				fs.IntVar(&c.MaxLen, "maxlen", c.MaxLen, "tokens per text ('pre' padding and truncation)")
				fs.IntVar(&c.EmbedDim, "embed-dim", c.EmbedDim, "embedding width")
				fs.IntVar(&c.Filters, "filters", c.Filters, "convolution filters")
				fs.IntVar(&c.Kernel, "kernel", c.Kernel, "convolution width")
				fs.IntVar(&c.Pool, "pool", c.Pool, "max-pool size")
			}
			return &c
		},
		model: func(raw json.RawMessage) (train.Model, any, error) {
			c := textcnn.DefaultConfig()
			if err := strictJSON(raw, &c); err != nil {
				return nil, nil, fmt.Errorf("textcnn config: %w", err)
			}
			m, err := textcnn.New(c)
			return m, &c, err
		},
		maxLen:   func(c any) int { return c.(*textcnn.Config).MaxLen },
		numWords: func(c any) int { return c.(*textcnn.Config).NumWords },
		training: train.Config{Epochs: 10, Batch: 32, LR: 0.001, Seed: 1, Optimizer: optim.Config{Name: optim.Adam}},
	},
}

func kindOf(name string) (textKind, error) {
	k, ok := kinds[name]
	if !ok {
		return k, fmt.Errorf("unknown model %q (known: %s)", name, strings.Join(kindNames(), ", "))
	}
	return k, nil
}

func kindNames() []string {
	var names []string
	for n := range kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// strictJSON decodes, refusing unknown fields so a misspelt key is reported.
func strictJSON(raw []byte, v any) error {
	if len(raw) == 0 {
		return fmt.Errorf("missing")
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
