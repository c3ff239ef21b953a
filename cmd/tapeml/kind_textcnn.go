package main

import (
	"flag"

	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/models/textcnn"
)

func init() {
	textArchFlags[textcnn.Kind] = func(fs *flag.FlagSet) kinds.TextArch {
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
	}
}
