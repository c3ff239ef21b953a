package main

import (
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/train"
)

// checkShapes compares the model's parameter shapes with the weights
// before anything is allocated.
func checkShapes(m train.Model, ts []safetensors.Tensor, from string) error {
	return checkpoint.CheckBuild(m.Build, ts, from)
}
