package main

import (
	"encoding/json"
	"flag"
	"fmt"

	"github.com/tapeml/tapeml/models/lstm"
	"github.com/tapeml/tapeml/train"
	"github.com/tapeml/tapeml/train/optim"
)

func init() {
	register(textKind{
		name:    lstm.Kind,
		summary: "embedding → 2-layer bidirectional LSTM → dense; binary text classifier (sentiment, spam)",
		config: func(fs *flag.FlagSet) any {
			c := lstm.DefaultConfig()
			if fs != nil {
				fs.IntVar(&c.NumWords, "num-words", c.NumWords, "vocabulary size: the num_words−1 most frequent training words, id 0 is padding")
				fs.IntVar(&c.MaxLen, "maxlen", c.MaxLen, "tokens per text ('pre' padding and truncation; padding is skipped by the LSTM)")
				fs.IntVar(&c.EmbedDim, "embed-dim", c.EmbedDim, "embedding width")
				fs.IntVar(&c.Hidden, "hidden", c.Hidden, "LSTM hidden size per direction")
				fs.IntVar(&c.Layers, "layers", c.Layers, "stacked LSTM layers")
				fs.BoolVar(&c.Bidirectional, "bidirectional", c.Bidirectional, "also run each LSTM layer backwards in time")
				fs.Float64Var(&c.Dropout, "dropout", c.Dropout, "dropout after the embedding, between LSTM layers and before the dense layer")
			}
			return &c
		},
		model: func(raw json.RawMessage) (train.Model, any, error) {
			c := lstm.DefaultConfig()
			if err := strictJSON(raw, &c); err != nil {
				return nil, nil, fmt.Errorf("lstm config: %w", err)
			}
			m, err := lstm.New(c)
			return m, &c, err
		},
		maxLen:   func(c any) int { return c.(*lstm.Config).MaxLen },
		numWords: func(c any) int { return c.(*lstm.Config).NumWords },
		// lr 0.005 with clipping, not the reference's 0.001: see models/lstm's doc.
		training: train.Config{Epochs: 10, Batch: 32, LR: 0.005, Seed: 1, Optimizer: optim.Config{Name: optim.Adam, ClipNorm: 5}},
	})
}
