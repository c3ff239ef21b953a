package main

import (
	"flag"

	"github.com/tapeml/tapeml/models/convnet"
)

// convnetArchFlags binds the convnet's architecture choices to flags; the
// widths stay the reference's, and the input shape and classes come from
// the data.
func convnetArchFlags(fs *flag.FlagSet) *convnet.Config {
	c := convnet.DefaultConfig()
	c.Norm = convnet.NormBatch
	fs.StringVar(&c.Norm, "norm", c.Norm, "normalization after each convolution: batch (BatchNorm) or group (GroupNorm, needed by --dp)")
	fs.Float64Var(&c.Dropout, "dropout", c.Dropout, "drop probability of the two dropout layers (the reference's 0.5; DP-SGD usually trains better with 0)")
	return &c
}
