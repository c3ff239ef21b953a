package main

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/tapeml/tapeml/checkpoint"
)

func runEval(e env, args []string) error {
	fs := newFlags(e, "eval", "tapeml eval --checkpoint DIR [--data PATH] [--json]")
	ckpt := fs.String("checkpoint", "", "checkpoint folder, or a run folder (its best checkpoint)")
	dataPath := fs.String("data", "", "evaluate on this data's test split instead of the checkpoint's")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c, err := openCheckpoint(*ckpt, checkpoint.PickBest)
	if err != nil {
		return err
	}
	if f, ok := familyOf(c.Meta.ModelKind); ok {
		return f.eval(e, c, evalOptions{data: *dataPath, asJSON: *asJSON})
	}
	l, err := textModelOf(c)
	if err != nil {
		return err
	}
	src := l.run.Data
	if *dataPath != "" {
		src.Path = *dataPath
	}
	corpus, err := src.load()
	if err != nil {
		return err
	}
	if len(corpus.Test) == 0 {
		return fmt.Errorf("data %s has no test examples", src.Path)
	}
	if !slices.Equal(corpus.Classes, l.pre.Classes) {
		return fmt.Errorf("data %s has classes %v, the model was trained on %v", src.Path, corpus.Classes, l.pre.Classes)
	}
	ds, err := l.pre.Dataset(corpus.Test)
	if err != nil {
		return err
	}
	r, err := l.trainer.Evaluate(ds)
	if err != nil {
		return err
	}
	if *asJSON {
		obj := map[string]any{"n": r.N, "checkpoint": l.dir, "data": src.Path, "model": l.kind.name}
		if err := addPrivacy(obj, c); err != nil {
			return err
		}
		for _, m := range r.Metrics {
			obj[m.Name] = jsonNumber(m.Value)
		}
		if r.Confusion != nil {
			obj["confusion"] = r.Confusion
		}
		b, err := json.Marshal(obj)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, string(b))
		return nil
	}
	fmt.Fprintf(e.stdout, "%s on %s test split (n=%d): %s\n", l.dir, src.Path, r.N, formatMetrics(r.Metrics))
	return nil
}

// jsonNumber maps NaN (an undefined metric) to null, which JSON can carry.
func jsonNumber(v float64) any {
	if v != v {
		return nil
	}
	return v
}
