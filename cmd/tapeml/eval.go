package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/imagedata"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/recsys"
	"github.com/tapeml/tapeml/textclass"
)

func runEval(e env, args []string) error {
	fs := newFlags(e, "eval", "tapeml eval --checkpoint DIR [--data PATH] [--json]")
	ckpt := fs.String("checkpoint", "", "checkpoint folder, a run folder (its best checkpoint) or an exported .safetensors file")
	dataPath := fs.String("data", "", "evaluate on this data's test split instead of the checkpoint's")
	asJSON := fs.Bool("json", false, "print one JSON object")
	rankUsers := fs.Int("rank-users", recsys.DefaultRankUsers, "recommenders: rank at most this many test users (a seeded sample; 0: all)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *ckpt == "" {
		return fmt.Errorf("--checkpoint is required")
	}
	m, err := tapeml.Load(*ckpt)
	if err != nil {
		return err
	}
	l := m.Loaded()
	obj := map[string]any{"checkpoint": l.Checkpoint.Dir, "model": m.Kind()}
	if l.Checkpoint.Dir == "" {
		obj["checkpoint"] = *ckpt
	}
	if err := addPrivacy(obj, l.Checkpoint); err != nil {
		return err
	}
	var r metrics.Result
	var classes []string
	switch {
	case l.Text != nil:
		r, err = evalText(m, l.Text, *dataPath, obj)
	case l.Image != nil:
		classes = l.Image.Pre.Classes
		r, err = evalImage(e, m, l.Image, *dataPath, obj)
	default:
		return evalRecsys(e, l, *dataPath, *rankUsers, obj, *asJSON)
	}
	if err != nil {
		return err
	}
	obj["n"] = r.N
	if *asJSON {
		for _, m := range r.Metrics {
			obj[m.Name] = jsonNumber(m.Value)
		}
		if r.Confusion != nil {
			obj["confusion"] = r.Confusion
			if classes != nil {
				per := map[string]any{}
				for i, a := range r.Confusion.PerClassAccuracy() {
					per[classes[i]] = a
				}
				obj["per_class_accuracy"] = per
			}
		}
		return printJSON(e, obj)
	}
	fmt.Fprintf(e.stdout, "%s on %s test split (n=%d): %s\n", obj["checkpoint"], obj["data"], r.N, formatMetrics(r.Metrics))
	if r.Confusion != nil && classes != nil {
		fmt.Fprint(e.stdout, r.Confusion.Format(classes))
	}
	return nil
}

func evalText(m *tapeml.Model, t *kinds.TextModel, dataPath string, obj map[string]any) (metrics.Result, error) {
	src := t.Run.Data
	if dataPath != "" {
		src.Path = dataPath
	}
	obj["data"] = src.Path
	corpus, err := src.Load()
	if err != nil {
		return metrics.Result{}, err
	}
	if len(corpus.Test) == 0 {
		return metrics.Result{}, fmt.Errorf("data %s has no test examples", src.Path)
	}
	if !slices.Equal(corpus.Classes, t.Pre.Classes) {
		return metrics.Result{}, fmt.Errorf("data %s has classes %v, the model was trained on %v", src.Path, corpus.Classes, t.Pre.Classes)
	}
	ds, err := textclass.Dataset(t.Pre, corpus.Test)
	if err != nil {
		return metrics.Result{}, err
	}
	return m.Evaluate(context.Background(), ds)
}

func evalImage(e env, m *tapeml.Model, im *kinds.ImageModel, dataPath string, obj map[string]any) (metrics.Result, error) {
	src := im.Run.Data
	if dataPath != "" {
		src.Path, src.Format = dataPath, imagedata.FormatAuto
	}
	obj["data"] = src.Path
	data, err := src.Load()
	if err != nil {
		return metrics.Result{}, err
	}
	if !slices.Equal(data.Classes, im.Pre.Classes) {
		return metrics.Result{}, fmt.Errorf("data %s has classes %v, the model was trained on %v", src.Path, data.Classes, im.Pre.Classes)
	}
	p := im.Pre.Pipeline
	test, resized, err := data.Test.Conform(p.Channels, p.Height, p.Width)
	if err != nil {
		return metrics.Result{}, err
	}
	if resized > 0 {
		fmt.Fprintf(e.stderr, "tapeml eval: %d test images resized to the model's %d×%d\n", resized, p.Width, p.Height)
	}
	ds, err := imagedata.NewDataset(test, p, src.Seed)
	if err != nil {
		return metrics.Result{}, err
	}
	return m.Evaluate(context.Background(), ds)
}

func evalRecsys(e env, l *kinds.Loaded, dataPath string, rankUsers int, obj map[string]any, asJSON bool) error {
	r := l.Recsys
	src := r.Run.Data
	if dataPath != "" {
		src.Path = dataPath
	}
	d, _, err := src.Load()
	if err != nil {
		return err
	}
	_, testR, err := src.Split(d)
	if err != nil {
		return err
	}
	rep, err := recsys.Evaluate(r.Recommender, r.Train, r.Remap(d, testR), recsys.EvalConfig{RankUsers: rankUsers, Seed: src.Seed})
	if err != nil {
		return err
	}
	if asJSON {
		obj["n"], obj["data"], obj["algo"] = rep.N, src.Path, r.Run.Algo
		for _, m := range rep.Named() {
			obj[m.Name] = jsonNumber(m.Value)
		}
		return printJSON(e, obj)
	}
	fmt.Fprintf(e.stdout, "%s (%s) on %s test split (n=%d): %s\n", obj["checkpoint"], r.Run.Algo, src.Path, rep.N, rep)
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
