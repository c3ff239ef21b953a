// Package core is the inside of the inference runtime (package tapeml),
// shared with the packages built on it inside this module — explanations,
// quantization — without making it public API: a model's decoded
// checkpoint (kinds.Loaded) and the runner of its serving machines.
package core

import (
	"sync"

	"github.com/tapeml/tapeml/kinds"
)

// Model is a loaded model: what a *tapeml.Model wraps.
type Model struct {
	Loaded *kinds.Loaded
	Run    *Runner // nil for models that are not networks
	Path   string  // as the user gave it

	// Cache holds what packages built on the runtime make once per model
	// (explanations' attribution machines), by a key of their own.
	Cache sync.Map
}

// Unwrap returns the core of a *tapeml.Model; package tapeml sets it.
var Unwrap func(m any) *Model

// Wrap makes a *tapeml.Model of a core; package tapeml sets it.
var Wrap func(c *Model) any
