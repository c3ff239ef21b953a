package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/spf13/cobra"

	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/train"
)

// presets is a configuration with named architectures (textcnn's kim
// and seed).
type presets interface {
	Presets() map[string]kinds.Config
}

// modelsCmd lists the registered kinds: each one's default configuration
// and reference training (its configuration's Training method), and the
// presets of a configuration that has them (a Presets method).
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
				var ps map[string]kinds.Config
				if p, ok := cfg.(presets); ok {
					ps = p.Presets()
				}
				if asJSON {
					obj := map[string]any{"model": name, "summary": k.Summary, "config": cfg, "training": tr}
					if ps != nil {
						obj["presets"] = ps
					}
					if err := printJSON(e, obj); err != nil {
						return err
					}
					continue
				}
				cb, _ := json.MarshalIndent(cfg, "    ", "  ")
				tb, _ := json.MarshalIndent(tr, "    ", "  ")
				fmt.Fprintf(e.stdout, "%s — %s\n  model config:\n    %s\n  training:\n    %s\n", name, k.Summary, cb, tb)
				for _, p := range slices.Sorted(maps.Keys(ps)) {
					pb, _ := json.MarshalIndent(ps[p], "    ", "  ")
					fmt.Fprintf(e.stdout, "  preset --arch %s:\n    %s\n", p, pb)
				}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per model")
	return c
}
