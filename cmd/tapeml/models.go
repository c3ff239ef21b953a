package main

import (
	"encoding/json"
	"fmt"

	"github.com/tapeml/tapeml/kinds"
)

func runModels(e env, args []string) error {
	fs := newFlags(e, "models", "tapeml models [--json]")
	asJSON := fs.Bool("json", false, "print one JSON object per model")
	if err := parse(fs, args); err != nil {
		return err
	}
	for _, name := range kinds.Names() {
		k, err := kinds.Lookup(name)
		if err != nil {
			return err
		}
		cfg, tr := k.Defaults()
		entry := map[string]any{"model": name, "summary": k.Summary, "config": cfg, "training": tr}
		if *asJSON {
			b, err := json.Marshal(entry)
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, string(b))
			continue
		}
		cb, _ := json.MarshalIndent(cfg, "    ", "  ")
		tb, _ := json.MarshalIndent(tr, "    ", "  ")
		fmt.Fprintf(e.stdout, "%s — %s\n  model config:\n    %s\n  training:\n    %s\n", name, k.Summary, cb, tb)
	}
	return nil
}
