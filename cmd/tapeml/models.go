package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/train"
)

// modelsCmd lists the registered kinds: each one's default configuration
// and reference training (its configuration's Training method).
func modelsCmd(e env) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "models [--json]",
		Short: "list model kinds and their default configurations",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			for _, name := range kinds.Names() {
				k, err := kinds.Lookup(name)
				if err != nil {
					return err
				}
				cfg := k.Default()
				var tr train.Config
				if t, ok := cfg.(interface{ Training() train.Config }); ok {
					tr = t.Training()
				}
				if asJSON {
					if err := printJSON(e, map[string]any{"model": name, "summary": k.Summary, "config": cfg, "training": tr}); err != nil {
						return err
					}
					continue
				}
				cb, _ := json.MarshalIndent(cfg, "    ", "  ")
				tb, _ := json.MarshalIndent(tr, "    ", "  ")
				fmt.Fprintf(e.stdout, "%s — %s\n  model config:\n    %s\n  training:\n    %s\n", name, k.Summary, cb, tb)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per model")
	return c
}
