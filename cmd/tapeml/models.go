package main

import (
	"encoding/json"
	"fmt"
)

func runModels(e env, args []string) error {
	fs := newFlags(e, "models", "tapeml models [--json]")
	asJSON := fs.Bool("json", false, "print one JSON object per model")
	if err := parse(fs, args); err != nil {
		return err
	}
	for _, name := range kindNames() {
		var entry map[string]any
		if f, ok := familyOf(name); ok {
			cfg, tr := f.defaults(name)
			entry = map[string]any{"model": name, "summary": f.summary(name), "config": cfg, "training": tr}
		} else {
			k := kinds[name]
			entry = map[string]any{"model": name, "summary": k.summary, "config": k.config(nil), "training": k.training}
		}
		if *asJSON {
			b, err := json.Marshal(entry)
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, string(b))
			continue
		}
		cfg, _ := json.MarshalIndent(entry["config"], "    ", "  ")
		tr, _ := json.MarshalIndent(entry["training"], "    ", "  ")
		fmt.Fprintf(e.stdout, "%s — %s\n  model config:\n    %s\n  training:\n    %s\n", name, entry["summary"], cfg, tr)
	}
	return nil
}
