package main

import (
	"flag"

	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/models/lstm"
)

func init() {
	textArchFlags[lstm.Kind] = func(fs *flag.FlagSet) kinds.TextArch {
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
	}
}
