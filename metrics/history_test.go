package metrics

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// checkGolden compares got with testdata/name, or rewrites it under -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

// trainingRun is a made-up 12-epoch binary classification run: losses fall
// and flatten, validation overfits from epoch 8, the validation AUC is
// missing at epoch 3 (a one-class batch) and "lr" halves every 4 epochs.
func trainingRun(t testing.TB) *History {
	var h History
	for e := 1; e <= 12; e++ {
		x := float64(e)
		trainLoss := 0.15 + 0.55*math.Exp(-x/3)
		valLoss := 0.25 + 0.45*math.Exp(-x/3) + 0.01*math.Max(0, x-8)*math.Max(0, x-8)
		auc := 0.97 - 0.3*math.Exp(-x/2.5)
		if e == 3 {
			auc = math.NaN()
		}
		err := h.Append([]Named{
			{"epoch", x},
			{"train/loss", round4(trainLoss)},
			{"train/accuracy", round4(1 - trainLoss/1.4)},
			{"val/loss", round4(valLoss)},
			{"val/accuracy", round4(1 - valLoss/1.3)},
			{"val/f1", round4(0.92 - 0.35*math.Exp(-x/2))},
			{"val/auc", round4(auc)},
			{"lr", 0.001 / math.Pow(2, math.Floor((x-1)/4))},
			{"time_s", 4 + 0.1*float64(e%3)},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return &h
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }

func TestHistoryCSVGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := trainingRun(t).WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "history.csv", buf.Bytes())
}

func TestHistoryColumns(t *testing.T) {
	var h History
	mustAppend := func(r []Named) {
		t.Helper()
		if err := h.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	mustAppend([]Named{{"epoch", 1}, {"train/loss", 0.5}})
	mustAppend([]Named{{"epoch", 2}, {"train/loss", 0.4}, {"val/loss", 0.45}}) // validation from epoch 2
	mustAppend([]Named{{"train/loss", math.Inf(1)}, {"epoch", 3}})             // other order, diverged

	if got, want := h.Columns(), []string{"epoch", "train/loss", "val/loss"}; !reflect.DeepEqual(got, want) {
		t.Errorf("columns %v, want %v", got, want)
	}
	if got := h.Column("val/loss"); len(got) != 3 || !math.IsNaN(got[0]) || got[1] != 0.45 || !math.IsNaN(got[2]) {
		t.Errorf("val/loss column %v, want [NaN 0.45 NaN]", got)
	}
	if h.Column("nope") != nil {
		t.Error("unknown column is not nil")
	}
	if row := h.Row(0); len(row) != 3 || row[2].Name != "val/loss" || !math.IsNaN(row[2].Value) {
		t.Errorf("row 0 = %v", row)
	}
	var buf bytes.Buffer
	if err := h.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), "epoch,train/loss,val/loss\n1,0.5,\n2,0.4,0.45\n3,inf,\n"; got != want {
		t.Errorf("CSV\n%s\nwant\n%s", got, want)
	}

	for _, bad := range [][]Named{{{"a", 1}, {"a", 2}}, {{"", 1}}} {
		if err := h.Append(bad); err == nil {
			t.Errorf("Append(%v) accepted", bad)
		}
	}
	if h.Len() != 3 {
		t.Errorf("rejected records were appended: Len %d", h.Len())
	}
}

func TestHistoryJSONRoundTrip(t *testing.T) {
	h := trainingRun(t)
	_ = h.Append([]Named{{"epoch", 13}, {"train/loss", math.Inf(1)}, {"val/loss", math.Inf(-1)}})
	data, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), `{"columns":["epoch","train/loss","train/accuracy",`) ||
		!strings.Contains(string(data), `[13,"inf",null,"-inf",null,null,null,null,null]`) {
		t.Errorf("unexpected JSON %s", data)
	}
	var back History
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Columns(), h.Columns()) || back.Len() != h.Len() {
		t.Fatalf("columns %v len %d, want %v len %d", back.Columns(), back.Len(), h.Columns(), h.Len())
	}
	for _, name := range h.Columns() {
		got, want := back.Column(name), h.Column(name)
		for i := range want {
			if !(got[i] == want[i] || math.IsNaN(got[i]) && math.IsNaN(want[i])) {
				t.Errorf("%s[%d] = %v, want %v", name, i, got[i], want[i])
			}
		}
	}
	// The decoded history keeps working.
	if err := back.Append([]Named{{"epoch", 14}, {"new", 1}}); err != nil {
		t.Fatal(err)
	}

	var empty History
	data, _ = json.Marshal(&empty)
	if string(data) != `{"columns":[],"rows":[]}` {
		t.Errorf("empty history JSON %s", data)
	}
}

func TestHistoryUnmarshalErrors(t *testing.T) {
	tests := []struct{ json, wantErr string }{
		{`{"columns":["a","a"],"rows":[]}`, `column "a" appears twice`},
		{`{"columns":["a",""],"rows":[]}`, `column 1 has an empty name`},
		{`{"columns":["a","b"],"rows":[[1,2],[3]]}`, `row 1 has 1 values, expected 2`},
		{`{"columns":["a"],"rows":[["x"]]}`, `row 0, column "a": value "x", expected a number`},
		{`{"columns":"a"}`, `history:`},
	}
	for _, tt := range tests {
		var h History
		err := json.Unmarshal([]byte(tt.json), &h)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: error %v, want one containing %q", tt.json, err, tt.wantErr)
		}
	}
}

func TestHistoryBest(t *testing.T) {
	h := trainingRun(t)
	tests := []struct {
		name      string
		mode      Mode
		wantEpoch int
		wantErr   string
	}{
		{"val/loss", Min, 8, ""},
		{"train/loss", Min, 12, ""},
		{"val/auc", Max, 12, ""},
		{"val/auc", Min, 1, ""},
		{"lr", Min, 9, ""}, // ties: the earliest
		{"lr", Max, 1, ""},
		{"val/nope", Min, 0, `no column "val/nope"`},
		{"val/loss", "lowest", 0, `mode "lowest"`},
	}
	for _, tt := range tests {
		epoch, value, err := h.Best(tt.name, tt.mode)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Best(%s, %s): error %v, want %q", tt.name, tt.mode, err, tt.wantErr)
			}
			continue
		}
		if err != nil || epoch != tt.wantEpoch || value != h.Column(tt.name)[tt.wantEpoch-1] {
			t.Errorf("Best(%s, %s) = %d, %v, %v; want epoch %d", tt.name, tt.mode, epoch, value, err, tt.wantEpoch)
		}
	}
	// Best reports the recorded epoch number, not the row.
	var resumed History
	_ = resumed.Append([]Named{{"epoch", 5}, {"val/loss", 0.3}})
	_ = resumed.Append([]Named{{"epoch", 6}, {"val/loss", 0.2}})
	_ = resumed.Append([]Named{{"epoch", 7}, {"val/loss", math.NaN()}})
	if epoch, _, _ := resumed.Best("val/loss", Min); epoch != 6 {
		t.Errorf("best epoch %d, want 6", epoch)
	}
	var noValue History
	_ = noValue.Append([]Named{{"val/auc", math.NaN()}})
	if _, _, err := noValue.Best("val/auc", Max); err == nil || !strings.Contains(err.Error(), "has no value") {
		t.Errorf("all-NaN column: %v", err)
	}
}
