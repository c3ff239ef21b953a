package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// evalJSON is what the tests read of eval --json.
type evalJSON struct {
	N         int     `json:"n"`
	Accuracy  float64 `json:"accuracy"`
	F1, Loss  float64
	Classes   []string
	Confusion [][]int
	MacroF1   float64 `json:"macro_f1"`
	Weighted  float64 `json:"weighted_f1"`
	Report    struct {
		Classes []struct {
			Class                 string
			Precision, Recall, F1 float64
			Support               int
		}
		MacroAvg struct{ F1 float64 } `json:"macro_avg"`
	}
	Curves struct {
		Classes []struct {
			Class            string
			ROCAUC           float64 `json:"roc_auc"`
			AveragePrecision float64 `json:"average_precision"`
		}
		Skipped []string
		Files   map[string]string
	}
}

// checkCurveFiles checks the four files eval --curves writes: PNG images
// and CSVs whose class column lists want.
func checkCurveFiles(t *testing.T, dir string, want []string) {
	t.Helper()
	for _, name := range []string{"roc.png", "pr.png"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if img, err := png.Decode(bytes.NewReader(b)); err != nil || img.Bounds().Dx() < 400 {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, header := range map[string]string{"roc.csv": "class,threshold,fpr,tpr", "pr.csv": "class,threshold,precision,recall"} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil || len(rows) < 3 || strings.Join(rows[0], ",") != header {
			t.Fatalf("%s: %v, %d rows, header %q", name, err, len(rows), rows[0])
		}
		var classes []string
		for _, r := range rows[1:] {
			if !slices.Contains(classes, r[0]) {
				classes = append(classes, r[0])
			}
		}
		if !slices.Equal(classes, want) {
			t.Errorf("%s has curves of %q, want %q", name, classes, want)
		}
	}
}

func TestEvalReportAndCurvesBinary(t *testing.T) {
	run := filepath.Join(t.TempDir(), "run")
	if status, _, stderr := runCLI(t, "", append(tinyText(t), "--epochs", "2", "--out", run)...); status != 0 {
		t.Fatalf("train: %s", stderr)
	}
	status, out, stderr := runCLI(t, "", "eval", "--checkpoint", run)
	if status != 0 {
		t.Fatalf("eval: %s", stderr)
	}
	for _, want := range []string{"confusion matrix (rows: true class, columns: predicted)", " ham  0 ", "spam  1 ",
		"precision    recall  f1-score   support", "    accuracy  ", "   macro avg  ", "weighted avg  ", "macro F1 "} {
		if !strings.Contains(out, want) {
			t.Errorf("eval output lacks %q:\n%s", want, out)
		}
	}

	curves := filepath.Join(t.TempDir(), "curves")
	status, out, stderr = runCLI(t, "", "eval", "--checkpoint", run, "--json", "--curves", curves)
	if status != 0 {
		t.Fatalf("eval --curves: %s", stderr)
	}
	var ev evalJSON
	if err := json.Unmarshal([]byte(out), &ev); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ev.Classes, []string{"ham", "spam"}) || len(ev.Confusion) != 2 || len(ev.Report.Classes) != 2 ||
		ev.Report.Classes[1].Class != "spam" || ev.Report.Classes[0].Support+ev.Report.Classes[1].Support != ev.N ||
		ev.MacroF1 != ev.Report.MacroAvg.F1 || ev.Weighted <= 0 {
		t.Errorf("eval --json: %s", out)
	}
	if len(ev.Curves.Classes) != 1 || ev.Curves.Classes[0].Class != "spam" || ev.Curves.Classes[0].ROCAUC < 0.5 || len(ev.Curves.Files) != 4 {
		t.Errorf("eval --json curves: %+v", ev.Curves)
	}
	checkCurveFiles(t, curves, []string{"spam"})

	// What is there is not replaced without --force, and never if it is
	// not a regular file.
	roc := filepath.Join(curves, "roc.png")
	before, _ := os.ReadFile(roc)
	status, _, stderr = runCLI(t, "", "eval", "--checkpoint", run, "--curves", curves)
	if status != exitFailed || !strings.Contains(stderr, "--force") || !strings.Contains(stderr, "roc.png") {
		t.Errorf("existing curve files: status %d, %q", status, stderr)
	}
	if status, _, stderr := runCLI(t, "", "eval", "--checkpoint", run, "--curves", curves, "--force"); status != 0 {
		t.Errorf("--force: %s", stderr)
	}
	target := filepath.Join(t.TempDir(), "precious")
	write(t, target, []byte("keep"))
	os.Remove(filepath.Join(curves, "pr.csv"))
	if err := os.Symlink(target, filepath.Join(curves, "pr.csv")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(roc, before, 0o644)
	status, _, stderr = runCLI(t, "", "eval", "--checkpoint", run, "--curves", curves, "--force")
	if status != exitFailed || !strings.Contains(stderr, "symbolic link") {
		t.Errorf("a symlink among the curve files: status %d, %q", status, stderr)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Error("the symlink's target was written")
	}
	if after, _ := os.ReadFile(roc); !bytes.Equal(after, before) {
		t.Error("a refused --curves wrote some of the files")
	}
	if status, _, stderr := runCLI(t, "", "eval", "--checkpoint", run, "--force"); status != exitUsage || !strings.Contains(stderr, "--curves") {
		t.Errorf("--force without --curves: status %d, %q", status, stderr)
	}

	// predict's threshold moves the decision, not the probabilities.
	texts := "win free prize money\nmeeting tuesday lunch report\n"
	for _, c := range []struct {
		threshold string
		want      string
	}{{"0", "spam"}, {"1", "ham"}} {
		status, out, stderr := runCLI(t, texts, "predict", "--checkpoint", run, "--threshold", c.threshold, "--json")
		if status != 0 {
			t.Fatalf("--threshold %s: %s", c.threshold, stderr)
		}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var p struct {
				Class     string
				Prob      float64
				Threshold float64
			}
			json.Unmarshal([]byte(line), &p)
			if want := c.want; p.Class != want && !(c.threshold == "1" && p.Prob == 1) {
				t.Errorf("--threshold %s: %s, want class %s", c.threshold, line, want)
			}
		}
	}
	status, out, _ = runCLI(t, "", "predict", "--checkpoint", run, "--top", "2", "win free prize")
	if status != 0 || !strings.Contains(out, "spam 0.") || !strings.Contains(out, "ham 0.") {
		t.Errorf("--top 2 on a binary text model: %q", out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--threshold", "1.5"}, "between 0 and 1"},
		{[]string{"--threshold", "NaN"}, "between 0 and 1"},
		{[]string{"--top", "0"}, "--top must be at least 1"},
	} {
		status, _, stderr := runCLI(t, "", append([]string{"predict", "--checkpoint", run, "x"}, c.args...)...)
		if status != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: status %d, %q", c.args, status, stderr)
		}
	}
}

// Eval, its curves and predict's --top work for any number of classes:
// a 3-class image model.
func TestEvalReportAndCurvesThreeClasses(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "images")
	names := []string{"left", "right", "top"}
	for i := range 20 {
		for k, name := range names {
			// Bright on the left, on the right, or at the top.
			bright := func(x, y int) bool { return k == 0 && x < 4 || k == 1 && x >= 4 || k == 2 && y < 4 }
			write(t, filepath.Join(data, name, fmt.Sprintf("%02d.png", i)), drawPNG(t, bright, i, false))
		}
	}
	run := filepath.Join(dir, "run")
	if status, out, stderr := runCLI(t, "", "train", "convnet", "--data", data, "--epochs", "1", "--batch", "8", "--lr", "0.01", "--out", run); status != 0 {
		t.Fatalf("train: %s\n%s", stderr, out)
	}
	status, out, stderr := runCLI(t, "", "eval", "--checkpoint", run)
	if status != 0 {
		t.Fatalf("eval: %s", stderr)
	}
	for _, want := range []string{" left  0 ", "right  1 ", "  top  2 ", "precision    recall  f1-score   support", "weighted avg  "} {
		if !strings.Contains(out, want) {
			t.Errorf("eval output lacks %q:\n%s", want, out)
		}
	}
	curves := filepath.Join(dir, "curves")
	status, out, stderr = runCLI(t, "", "eval", "--checkpoint", run, "--json", "--curves", curves)
	if status != 0 {
		t.Fatalf("eval --curves: %s", stderr)
	}
	var ev evalJSON
	if err := json.Unmarshal([]byte(out), &ev); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ev.Classes, names) || len(ev.Confusion) != 3 || len(ev.Report.Classes) != 3 || len(ev.Curves.Classes) != 3 {
		t.Fatalf("eval --json: %s", out)
	}
	checkCurveFiles(t, curves, names)
	status, _, stderr = runCLI(t, "", "predict", "--checkpoint", run, "--threshold", "0.3", filepath.Join(data, "top", "00.png"))
	if status != exitUsage || !strings.Contains(stderr, "binary models") || !strings.Contains(stderr, "3 classes") {
		t.Errorf("--threshold on a 3-class model: status %d, %q", status, stderr)
	}
	if status, _, stderr := runCLI(t, "", "eval", "--checkpoint", run, "--curves", filepath.Join(data, "top", "00.png")); status == 0 || !strings.Contains(stderr, "not a folder") {
		t.Errorf("--curves onto a file: status %d, %q", status, stderr)
	}
}
