package main

import (
	"strings"

	"github.com/tapeml/tapeml/train"
)

// flagNames is the one table between the library's setting names and the
// flags that set them: the library's errors name settings by key (a JSON
// key of a configuration, a data option, a RunSpec field: see
// train.Field), and the command line says the flag. The first key of an
// entry is the one train.RunSpec.Set uses; a key not listed is its flag
// with underscores for dashes ("embed_dim" is --embed-dim), so a kind's
// own flags need no entry.
var flagNames = []struct {
	flag string
	keys []train.Field
}{
	// The training configuration (train.Config).
	{"optimizer", []train.Field{"optimizer", "name"}},
	{"warmup", []train.Field{"warmup_steps"}},
	{"decay-every", []train.Field{"every_epochs"}},
	{"epochs", []train.Field{"epochs", "total_steps/total_epochs"}},
	// Differential privacy (train.DPConfig).
	{"noise", []train.Field{"noise_multiplier"}},
	{"dp-insecure-seeded-noise", []train.Field{"insecure_seeded_noise"}},
	// Data options whose library names are Go fields.
	{"text-column", []train.Field{"text_column", "TextOptions.TextColumn"}},
	{"label-column", []train.Field{"label_column", "TextOptions.LabelColumn"}},
	{"keep-headers", []train.Field{"keep_headers", "TextOptions.KeepHeaders"}},
	{"keep-html", []train.Field{"keep_html", "TextOptions.KeepHTML"}},
	{"maxlen", []train.Field{"maxlen", "PadConfig.MaxLen"}},
	{"padding", []train.Field{"padding", "PadConfig.Padding"}},
	{"truncating", []train.Field{"truncating", "PadConfig.Truncating"}},
	// Text models' class weights: the data option and the head's field.
	{"class-weight", []train.Field{"class_weight", "class_weights"}},
}

// flagName is the flag that sets the setting key.
func flagName(key string) string {
	for _, e := range flagNames {
		for _, k := range e.keys {
			if string(k) == key {
				return e.flag
			}
		}
	}
	return strings.ReplaceAll(key, "_", "-")
}

// keyOf is the setting the flag called name sets.
func keyOf(name string) train.Field {
	for _, e := range flagNames {
		if e.flag == name {
			return e.keys[0]
		}
	}
	return train.Field(strings.ReplaceAll(name, "-", "_"))
}

// dashed writes a setting as its flag: --epochs, -k.
func dashed(key string) string { return dash(flagName(key)) }

// dash writes a flag's name as given on the command line.
func dash(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}
