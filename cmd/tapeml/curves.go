package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/atomicfile"
	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/metrics/curveplot"
)

// The files eval --curves writes, in this order.
var curveFileNames = []string{"roc.png", "roc.csv", "pr.png", "pr.csv"}

// curvesDir checks eval --curves's folder before anything is evaluated: it
// is a folder, or nothing yet (it is made when the curves are written).
func curvesDir(dir string) error {
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("--curves %s: %w", dir, err)
	case !info.IsDir():
		return fmt.Errorf("--curves %s: not a folder", dir)
	}
	return nil
}

// curveFiles is what writeCurves wrote.
type curveFiles struct {
	paths   []string // as curveFileNames
	curves  []metrics.ClassCurves
	skipped []string // classes without curves: no example, or only theirs
	binary  bool
}

// writeCurves draws the ROC and precision–recall curves of an evaluation
// into dir: the positive class's for a binary model (positive names it),
// each class against the rest otherwise. No file is written unless all
// can be: what is in dir already is refused unless force, and what is
// not a regular file always.
func writeCurves(dir string, force bool, title string, r *tapeml.EvalReport, positive string) (*curveFiles, error) {
	var classes []int
	if positive != "" {
		classes = []int{slices.Index(r.Classes, positive)}
	} else {
		for i := range r.Classes {
			classes = append(classes, i)
		}
	}
	curves, skipped, err := metrics.ClassifierCurves(r.Probs, r.Labels, r.Classes, classes)
	if err != nil {
		return nil, err
	}
	if len(curves) == 0 {
		return nil, fmt.Errorf("no curves: the test split (n=%d) does not hold both examples and non-examples of %s", r.N, strings.Join(skipped, ", "))
	}
	draw := []func(io.Writer) error{
		func(w io.Writer) error { return curveplot.ROCPNG(w, "ROC: "+title, curves) },
		func(w io.Writer) error { return metrics.WriteROCCSV(w, curves) },
		func(w io.Writer) error { return curveplot.PRPNG(w, "precision-recall: "+title, curves) },
		func(w io.Writer) error { return metrics.WritePRCSV(w, curves) },
	}
	// Everything is drawn and checked before the first file is written.
	bodies := make([][]byte, len(draw))
	for i, f := range draw {
		var b bytes.Buffer
		if err := f(&b); err != nil {
			return nil, fmt.Errorf("%s: %w", curveFileNames[i], err)
		}
		bodies[i] = b.Bytes()
	}
	out := &curveFiles{curves: curves, skipped: skipped, binary: positive != ""}
	for _, name := range curveFileNames {
		path := filepath.Join(dir, name)
		if err := atomicfile.CheckFile(path, force); err != nil {
			return nil, err
		}
		out.paths = append(out.paths, path)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("--curves: %w", err)
	}
	for i, path := range out.paths {
		if err := atomicfile.WriteNew(path, force, func(w io.Writer) error { _, err := w.Write(bodies[i]); return err }); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// print says what was written, with each curve's area.
func (c *curveFiles) print(w io.Writer) {
	fmt.Fprintln(w)
	if c.binary {
		k := c.curves[0]
		fmt.Fprintf(w, "curves of %s: ROC AUC %.4f  average precision %.4f\n", k.Class, k.ROC.AUC(), k.PR.AveragePrecision())
	} else {
		fmt.Fprintln(w, "curves, each class against the rest:")
		width := 0
		for _, k := range c.curves {
			width = max(width, len(k.Class))
		}
		for _, k := range c.curves {
			fmt.Fprintf(w, "  %-*s  ROC AUC %.4f  average precision %.4f\n", width, k.Class, k.ROC.AUC(), k.PR.AveragePrecision())
		}
	}
	for _, s := range c.skipped {
		fmt.Fprintf(w, "  no curve for %s: the test split has no example of it, or only its own\n", s)
	}
	fmt.Fprintf(w, "wrote %s\n", strings.Join(c.paths, ", "))
}

// json is eval --json's "curves" object.
func (c *curveFiles) json() map[string]any {
	type classJSON struct {
		Class            string  `json:"class"`
		ROCAUC           float64 `json:"roc_auc"`
		AveragePrecision float64 `json:"average_precision"`
	}
	var classes []classJSON
	for _, k := range c.curves {
		classes = append(classes, classJSON{k.Class, k.ROC.AUC(), k.PR.AveragePrecision()})
	}
	files := map[string]string{}
	for i, name := range curveFileNames {
		files[strings.ReplaceAll(name, ".", "_")] = c.paths[i]
	}
	skipped := c.skipped
	if skipped == nil {
		skipped = []string{}
	}
	return map[string]any{"classes": classes, "skipped": skipped, "files": files}
}
