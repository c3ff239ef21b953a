package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"sort"
	"strings"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/train"
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

// kinds holds the text model kinds; each registers itself from its own
// file (kind_textcnn.go, …).
var kinds = map[string]textKind{}

func register(k textKind) { kinds[k.name] = k }

func kindOf(name string) (textKind, error) {
	k, ok := kinds[name]
	if !ok {
		return k, fmt.Errorf("unknown model %q (known: %s)", name, strings.Join(kindNames(), ", "))
	}
	return k, nil
}

// family is a group of model kinds outside the text classifiers (image
// classifiers, recommenders), with its own data and commands.
type family struct {
	kinds    []string
	summary  func(kind string) string
	defaults func(kind string) (config any, training any)
	train    func(e env, kind string, args []string) error
	// eval and predict get the loaded checkpoint and the common flags.
	eval    func(e env, c *checkpoint.Checkpoint, o evalOptions) error
	predict func(e env, c *checkpoint.Checkpoint, o predictOptions) error
}

type evalOptions struct {
	data   string
	asJSON bool
}

type predictOptions struct {
	inputs []string // texts, image paths, …
	asJSON bool
	top    int
}

var families []family

func registerFamily(f family) { families = append(families, f) }

// familyOf finds the family of a non-text kind.
func familyOf(kind string) (family, bool) {
	for _, f := range families {
		for _, k := range f.kinds {
			if k == kind {
				return f, true
			}
		}
	}
	return family{}, false
}

func kindNames() []string {
	var names []string
	for n := range kinds {
		names = append(names, n)
	}
	for _, f := range families {
		names = append(names, f.kinds...)
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
