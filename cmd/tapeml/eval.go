package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/spf13/cobra"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/recsys"
	"github.com/tapeml/tapeml/train"
)

func evalCmd(e env) *cobra.Command {
	var ckpt, data, curves string
	var asJSON, force bool
	var rankUsers int
	c := &cobra.Command{
		Use:   "eval --checkpoint DIR [--data PATH] [--json] [--curves DIR [--force]]",
		Short: "evaluate a checkpoint on its test split, or on --data",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			if ckpt == "" {
				return usagef("--checkpoint is required")
			}
			if force && curves == "" {
				return usagef("--force replaces curve files: give --curves DIR")
			}
			if curves != "" {
				if err := curvesDir(curves); err != nil {
					return err
				}
			}
			m, err := tapeml.Load(ckpt)
			if err != nil {
				return err
			}
			return evaluate(e, m, ckpt, tapeml.EvalOptions{Data: data, RankUsers: rankUsers}, evalOutput{asJSON, curves, force})
		},
	}
	fs := c.Flags()
	fs.StringVar(&ckpt, "checkpoint", "", "checkpoint folder, a run folder (its best checkpoint) or an exported .safetensors file")
	fs.StringVar(&data, "data", "", "evaluate on this data instead: all of it, or its test split if it ships one (a test folder) or is the run's own")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object")
	fs.IntVar(&rankUsers, "rank-users", recsys.DefaultRankUsers, "recommenders: rank at most this many test users (a seeded sample; 0: all)")
	fs.StringVar(&curves, "curves", "", "classifiers: write ROC and precision-recall curves into this folder (roc.png, roc.csv, pr.png, pr.csv; the positive class of a binary model, one-vs-rest for each class otherwise)")
	fs.BoolVar(&force, "force", false, "with --curves: replace curve files already in the folder")
	return c
}

// evalOutput is what eval prints and writes.
type evalOutput struct {
	json   bool
	curves string // folder for the curve files, or ""
	force  bool   // replace curve files there
}

// evaluate scores m on its run's test split, or on opt.Data, and prints the
// metrics, saying what was scored of how many rows: a line, and for a
// classifier its confusion matrix and
// per-class report (or all of it as one JSON object); with out.curves it
// writes the classifier's ROC and precision-recall curves.
func evaluate(e env, m *tapeml.Model, path string, opt tapeml.EvalOptions, out evalOutput) error {
	opt.Notes = func(note string) { fmt.Fprintf(e.stderr, "tapeml eval: %s\n", note) }
	name := m.Source()
	if name == "" {
		name = path
	}
	obj := map[string]any{"checkpoint": name, "model": m.Kind()}
	if err := addPrivacy(obj, m.Meta()); err != nil {
		return err
	}
	if m.Meta().InsecureDPNoise() {
		opt.Notes("warning: " + insecureNoiseNote)
	}
	if out.curves != "" && m.Classes() == nil {
		return usagef("--curves: %s models are not classifiers", m.Name())
	}
	r, err := m.EvaluateRunData(context.Background(), opt)
	if err != nil {
		data := opt.Data
		if data == "" {
			data = "the run's data"
		}
		return nonFinite(err, func(i int) string { return fmt.Sprintf("%s, test example %d", data, i+1) }, "")
	}
	if err := finiteMetrics(r.Metrics); err != nil {
		return err
	}
	var report *metrics.Report
	if r.Confusion != nil && r.Classes != nil {
		rep := r.Confusion.Report()
		report = &rep
	}
	var written *curveFiles
	if out.curves != "" {
		if r.Probs == nil {
			return fmt.Errorf("no curves: the model's outputs on the test split are not all numbers (NaN)")
		}
		title := fmt.Sprintf("%s on %s (n=%d)", m.Name(), r.Data, r.N)
		if written, err = writeCurves(out.curves, out.force, title, r, m.PositiveClass()); err != nil {
			return err
		}
	}
	if !out.json {
		if m.Algo() != "" {
			name += " (" + m.Algo() + ")"
		}
		detail := r.Detail
		if detail == "" {
			detail = train.FormatMetrics(r.Metrics)
		}
		scored := fmt.Sprintf("all of %s", r.Data)
		if r.Split == tapeml.SplitTest {
			scored = fmt.Sprintf("%s test split", r.Data)
		}
		fmt.Fprintf(e.stdout, "%s on %s (n=%d of %d rows): %s\n", name, scored, r.N, r.Rows, detail)
		if report != nil {
			fmt.Fprintf(e.stdout, "\nconfusion matrix (rows: true class, columns: predicted):\n%s", r.Confusion.Format(r.Classes))
			fmt.Fprintf(e.stdout, "\n%s", report.Format(r.Classes, 4))
			fmt.Fprintf(e.stdout, "\nmacro F1 %.4f  weighted F1 %.4f\n", report.Macro.F1, report.Weighted.F1)
		}
		if written != nil {
			written.print(e.stdout)
		}
		return nil
	}
	obj["data"], obj["n"], obj["split"], obj["rows"] = r.Data, r.N, r.Split, r.Rows
	for k, v := range r.Fields {
		obj[k] = v
	}
	for _, m := range r.Metrics {
		obj[m.Name] = jsonNumber(m.Value)
	}
	if r.Confusion != nil {
		obj["confusion"] = r.Confusion
		if r.Classes != nil {
			obj["classes"] = r.Classes // the confusion matrix's rows and columns
			per := map[string]any{}
			for i, a := range r.Confusion.PerClassAccuracy() {
				per[r.Classes[i]] = a
			}
			obj["per_class_accuracy"] = per
		}
	}
	if report != nil {
		obj["report"] = reportJSON(*report, r.Classes)
		obj["macro_f1"], obj["weighted_f1"] = report.Macro.F1, report.Weighted.F1
	}
	if written != nil {
		obj["curves"] = written.json()
	}
	return printJSON(e, obj)
}

// insecureNoiseNote says what seeded DP noise means for a model's guarantee.
const insecureNoiseNote = "the model was trained with seeded DP noise (--dp-insecure-seeded-noise, or a tapeml before secure noise): whoever holds the checkpoint can regenerate the noise, so its (ε, δ) does not hold against them"

// finiteMetrics refuses a loss or rating error that is NaN or infinite —
// defined for any examples, so a model whose outputs overflow, never a
// score to print with exit status 0. (Metrics that may be undefined, an
// AUC of one class, are printed as null.)
func finiteMetrics(ms []metrics.Named) error {
	for _, m := range ms {
		switch m.Name {
		case "loss", "rmse", "mae":
			if math.IsNaN(m.Value) || math.IsInf(m.Value, 0) {
				return fmt.Errorf("the %s is %v: the model's outputs are not finite numbers (its weights overflow, or are broken)", m.Name, m.Value)
			}
		}
	}
	return nil
}

// scoresJSON is one row of a classification report in JSON.
type scoresJSON struct {
	Class     string  `json:"class,omitempty"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"`
}

func reportJSON(r metrics.Report, classes []string) map[string]any {
	rows := make([]scoresJSON, len(r.Classes))
	for i, c := range r.Classes {
		rows[i] = scoresJSON{classes[i], c.Precision, c.Recall, c.F1, c.Support}
	}
	avg := func(s metrics.ClassScores) scoresJSON { return scoresJSON{"", s.Precision, s.Recall, s.F1, s.Support} }
	return map[string]any{"classes": rows, "accuracy": jsonNumber(r.Accuracy), "macro_avg": avg(r.Macro), "weighted_avg": avg(r.Weighted)}
}

// addPrivacy adds a DP checkpoint's epsilon, delta and settings to an eval
// JSON object, and "dp_insecure_seeded_noise": whether its noise can be
// regenerated from the checkpoint.
func addPrivacy(obj map[string]any, meta checkpoint.Meta) error {
	insecure := meta.InsecureDPNoise()
	if insecure || len(meta.Privacy) > 0 {
		obj["dp_insecure_seeded_noise"] = insecure
	}
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
