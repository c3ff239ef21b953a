package main

import (
	"encoding/json"
	"flag"
	"fmt"

	"github.com/tapeml/tapeml/models/textcnn"
	"github.com/tapeml/tapeml/train"
	"github.com/tapeml/tapeml/train/optim"
)

func init() {
	register(textKind{
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
	})
}
