package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/tapeml/tapeml/kinds"
)

// textArchFlags makes a text kind's default architecture with its fields
// bound to flags (when fs is not nil); one per text kind, registered from
// kind_textcnn.go and kind_lstm.go. The kinds themselves live in the
// library's registry (package kinds).
var textArchFlags = map[string]func(fs *flag.FlagSet) kinds.TextArch{}

// familyTrain is the train command of the kinds outside the text family
// (image.go, recsys.go).
var familyTrain = map[kinds.Family]func(e env, kind string, args []string) error{}

// lookupKind finds a kind of the registry by its command-line name.
func lookupKind(name string) (*kinds.Kind, error) {
	k, err := kinds.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("unknown model %q (known: %s)", name, strings.Join(kinds.Names(), ", "))
	}
	return k, nil
}
