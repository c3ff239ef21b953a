package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/recsys"
	"github.com/tapeml/tapeml/train"
)

func evalCmd(e env) *cobra.Command {
	var ckpt, data string
	var asJSON bool
	var rankUsers, k int
	c := &cobra.Command{
		Use:   "eval --checkpoint DIR [--data PATH] [--json]",
		Short: "evaluate a checkpoint on its test split or --data",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			if ckpt == "" {
				return usagef("--checkpoint is required")
			}
			m, err := tapeml.Load(ckpt)
			if err != nil {
				return err
			}
			if k < 0 {
				return usagef("--k must not be negative, got %d", k)
			}
			return evaluate(e, m, ckpt, tapeml.EvalOptions{Data: data, RankUsers: rankUsers, K: k}, asJSON)
		},
	}
	fs := c.Flags()
	fs.StringVar(&ckpt, "checkpoint", "", "checkpoint folder, a run folder (its best checkpoint) or an exported .safetensors file")
	fs.StringVar(&data, "data", "", "evaluate on this data's test split instead of the checkpoint's")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object")
	fs.IntVar(&rankUsers, "rank-users", recsys.DefaultRankUsers, "recommenders: rank at most this many test users (a seeded sample; 0: all)")
	fs.IntVar(&k, "k", 0, "recommenders: the ranked lists' length for precision@k, recall@k, ndcg@k, map@k and hit_rate@k (default: the run's, 10)")
	return c
}

// evaluate scores m on its run's test split, or opt.Data's, and prints the
// metrics: a line (and a classifier's confusion matrix), or one JSON
// object.
func evaluate(e env, m *tapeml.Model, path string, opt tapeml.EvalOptions, asJSON bool) error {
	opt.Notes = func(note string) { fmt.Fprintf(e.stderr, "tapeml eval: %s\n", note) }
	name := m.Source()
	if name == "" {
		name = path
	}
	obj := map[string]any{"checkpoint": name, "model": m.Kind()}
	if err := addPrivacy(obj, m.Meta()); err != nil {
		return err
	}
	r, err := m.EvaluateRunData(context.Background(), opt)
	if err != nil {
		return err
	}
	if !asJSON {
		if m.Algo() != "" {
			name += " (" + m.Algo() + ")"
		}
		detail := r.Detail
		if detail == "" {
			detail = train.FormatMetrics(r.Metrics)
		}
		fmt.Fprintf(e.stdout, "%s on %s test split (n=%d): %s\n", name, r.Data, r.N, detail)
		if r.Confusion != nil && r.Classes != nil {
			fmt.Fprint(e.stdout, r.Confusion.Format(r.Classes))
		}
		return nil
	}
	obj["data"], obj["n"] = r.Data, r.N
	for k, v := range r.Fields {
		obj[k] = v
	}
	for _, m := range r.Metrics {
		obj[m.Name] = jsonNumber(m.Value)
	}
	if r.Confusion != nil {
		obj["confusion"] = r.Confusion
		if r.Classes != nil {
			per := map[string]any{}
			for i, a := range r.Confusion.PerClassAccuracy() {
				per[r.Classes[i]] = a
			}
			obj["per_class_accuracy"] = per
		}
	}
	return printJSON(e, obj)
}

// addPrivacy adds a DP checkpoint's epsilon, delta and settings to an eval
// JSON object.
func addPrivacy(obj map[string]any, meta checkpoint.Meta) error {
	if len(meta.Privacy) == 0 {
		return nil
	}
	var p struct {
		Epsilon *float64 `json:"epsilon"`
		Delta   float64  `json:"delta"`
	}
	if err := json.Unmarshal(meta.Privacy, &p); err != nil {
		return fmt.Errorf("%s: privacy: %w", checkpoint.MetaFile, err)
	}
	if p.Epsilon != nil {
		obj["epsilon"] = *p.Epsilon
	} else {
		obj["epsilon"] = nil
	}
	obj["delta"] = p.Delta
	obj["privacy"] = meta.Privacy
	return nil
}

func printJSON(e env, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, string(b))
	return nil
}

// jsonNumber maps NaN (an undefined metric) to null, which JSON can carry.
func jsonNumber(v float64) any {
	if v != v {
		return nil
	}
	return v
}
