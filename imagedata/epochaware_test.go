package imagedata_test

import (
	"github.com/tapeml/tapeml/imagedata"
	"github.com/tapeml/tapeml/train"
)

// The trainer tells the dataset the epoch, which its augmentation draws
// from (an external test: train imports the samples, which import this
// package).
var _ train.EpochAware = (*imagedata.Dataset)(nil)
