package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/internal/testutil/ortrun"
	"github.com/tapeml/tapeml/serve"
)

// Text models of more than two classes go through every path: train,
// eval with its per-class report, predict --top, explain --target, ONNX
// export (checked in ONNX Runtime), serve, and int8 quantization. The
// fixtures: 200 support tickets with four string labels, 240 Chinese news
// sentences in three topics (testdata/text, from tools/mkfixtures; the
// Chinese model also classifies 30 sentences written apart from the
// generator's phrases, zh_heldout.csv), and the built-in sample's three
// groups.
func TestTextClassesEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("trains three small models")
	}
	for _, c := range []struct {
		name    string
		train   []string
		classes []string
		texts   []string
		minAcc  float64 // on the data's own test split
		heldout string  // a CSV written apart from the training data, also classified at ≥ minAcc
	}{
		{"tickets", []string{"textcnn", "--data", "../../testdata/text/tickets.csv", "--epochs", "8", "--maxlen", "40", "--embed-dim", "32", "--filters", "16", "--num-words", "2000"},
			[]string{"account", "billing", "shipping", "technical"},
			[]string{"I was charged twice this month", "my parcel never arrived", "the app crashes on start"}, 0.8, ""},
		{"chinese", []string{"fasttext", "--data", "../../testdata/text/zh_news.csv", "--maxlen", "60", "--buckets", "5000", "--num-words", "2000"},
			[]string{"体育", "科技", "财经"},
			[]string{"国家队在比赛中获胜", "股市今天大幅上涨"}, 0.8, "../../testdata/text/zh_heldout.csv"},
		{"spamassassin groups", []string{"fasttext", "--data", "builtin:spamassassin-groups", "--epochs", "3", "--maxlen", "200", "--buckets", "0", "--num-words", "10000"},
			[]string{"easy_ham", "hard_ham", "spam"},
			[]string{"WIN a FREE prize, click now", "the build is failing on the main branch"}, 0.8, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			run := filepath.Join(dir, "run")
			if status, out, stderr := runCLI(t, "", append(append([]string{"train"}, c.train...), "--out", run)...); status != 0 {
				t.Fatalf("train: %s\n%s", stderr, out)
			}
			status, out, stderr := runCLI(t, "", "eval", "--checkpoint", run)
			if status != 0 || !strings.Contains(out, "precision    recall  f1-score   support") || !strings.Contains(out, "macro avg") {
				t.Fatalf("eval: status %d %s\n%s", status, stderr, out)
			}
			ev := runEval(t, run)
			t.Logf("%s: test accuracy %.4f, macro-F1 %.4f, n %d", c.name, ev.Accuracy, ev.MacroF1, ev.N)
			if !slices.Equal(ev.Classes, c.classes) || len(ev.Report.Classes) != len(c.classes) || ev.Accuracy < c.minAcc {
				t.Errorf("eval --json: classes %v, %d report rows, accuracy %.4f (want ≥ %.2f)", ev.Classes, len(ev.Report.Classes), ev.Accuracy, c.minAcc)
			}

			if c.heldout != "" {
				if acc := csvAccuracy(t, run, c.heldout); acc < c.minAcc {
					t.Errorf("%s: accuracy %.3f, want ≥ %.2f", c.heldout, acc, c.minAcc)
				}
			}

			// predict --top 2: the two most probable of every class's probability.
			status, out, stderr = runCLI(t, strings.Join(c.texts, "\n")+"\n", "predict", "--checkpoint", run, "--json", "--top", "2")
			if status != 0 {
				t.Fatalf("predict: %s", stderr)
			}
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				var p struct {
					Class string
					Probs []float64
				}
				if err := json.Unmarshal([]byte(l), &p); err != nil || len(p.Probs) != len(c.classes) || !slices.Contains(c.classes, p.Class) {
					t.Errorf("predict --json: %s (%v)", l, err)
				}
			}
			status, out, stderr = runCLI(t, "", "explain", "--checkpoint", run, "--target", c.classes[1], "--json", c.texts[0])
			if status != 0 || !strings.Contains(out, c.classes[1]) {
				t.Errorf("explain --target %s: status %d %s\n%s", c.classes[1], status, stderr, out)
			}

			onnxPath := filepath.Join(dir, "model.onnx")
			if status, _, stderr := runCLI(t, "", "export", "--checkpoint", run, "--format", "onnx", "--out", onnxPath); status != 0 {
				t.Fatalf("export onnx: %s", stderr)
			}
			m, err := tapeml.Load(run)
			if err != nil {
				t.Fatal(err)
			}
			checkONNXRuntime(t, m, onnxPath, c.texts)

			int8 := filepath.Join(dir, "int8")
			if status, out, stderr := runCLI(t, "", "optimize", "--checkpoint", run, "--int8", "--out", int8); status != 0 {
				t.Fatalf("optimize --int8: %s\n%s", stderr, out)
			}
			q := runEval(t, int8)
			t.Logf("%s int8: test accuracy %.4f", c.name, q.Accuracy)
			if q.Accuracy < ev.Accuracy-0.05 {
				t.Errorf("int8 accuracy %.4f, float32 %.4f", q.Accuracy, ev.Accuracy)
			}

			checkServed(t, run, c.classes, c.texts[0])
		})
	}
}

// checkONNXRuntime runs the exported graph on the model's encoding of texts
// in ONNX Runtime and compares its logits with tapeml's within 1e-4.
func checkONNXRuntime(t *testing.T, m *tapeml.Model, path string, texts []string) {
	t.Helper()
	ids, err := m.EncodeTexts(texts)
	if err != nil {
		t.Fatal(err)
	}
	logits, err := m.Forward(context.Background(), [][]float32{ids}, len(texts))
	if err != nil {
		t.Fatal(err)
	}
	in := ortrun.Array{Dtype: "int64", Shape: []int{len(texts), len(ids) / len(texts)}}
	for _, v := range ids {
		in.Data = append(in.Data, float64(v))
	}
	want := ortrun.Array{Dtype: "float32", Shape: []int{len(texts), len(logits) / len(texts)}}
	for _, v := range logits {
		want.Data = append(want.Data, float64(v))
	}
	ortrun.Check(t, path, map[string]ortrun.Array{"ids": in}, map[string]ortrun.Array{"logits": want}, 1e-4)
}

// checkServed serves the run's best checkpoint and checks that the
// metadata lists the classes and that v2 and v1 answer every class's
// probability, and known_tokens 0 for a text of unknown words.
func checkServed(t *testing.T, run string, classes []string, text string) {
	t.Helper()
	repo := t.TempDir()
	version := filepath.Join(repo, "m", "1")
	if err := os.MkdirAll(version, 0o755); err != nil {
		t.Fatal(err)
	}
	files, err := os.ReadDir(filepath.Join(run, "best"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(run, "best", f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(version, f.Name()), b)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := serve.New(ctx, serve.Config{Models: repo, Poll: -1})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	url := "http://" + ln.Addr().String()
	get := func(method, path, body string) string {
		req, err := http.NewRequest(method, url+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return string(b)
	}
	meta := get("GET", "/v2/models/m", "")
	for _, c := range classes {
		if !strings.Contains(meta, c) {
			t.Errorf("metadata lacks class %q: %s", c, meta)
		}
	}
	body, _ := json.Marshal(map[string]any{"inputs": []map[string]any{{"name": "text", "datatype": "BYTES", "shape": []int{2}, "data": []string{text, "qzxv wqpz"}}}})
	var v2 struct {
		Outputs []struct {
			Name  string
			Shape []int
			Data  []any
		}
	}
	if err := json.Unmarshal([]byte(get("POST", "/v2/models/m/infer", string(body))), &v2); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, o := range v2.Outputs {
		seen[o.Name] = true
		switch o.Name {
		case "probs":
			if !slices.Equal(o.Shape, []int{2, len(classes)}) {
				t.Errorf("v2 probs shape %v", o.Shape)
			}
		case "known_tokens":
			if len(o.Data) != 2 || o.Data[1] != 0.0 || o.Data[0] == 0.0 {
				t.Errorf("v2 known_tokens %v, want [>0, 0]", o.Data)
			}
		}
	}
	if !seen["probs"] || !seen["known_tokens"] || !seen["class"] {
		t.Errorf("v2 outputs %v", seen)
	}
	v1 := get("POST", "/v1/models/m:predict", `{"instances":["`+text+`"]}`)
	if !strings.Contains(v1, `"probs"`) || !strings.Contains(v1, `"known_tokens"`) {
		t.Errorf("v1 answer %s", v1)
	}
}

// --positive-label picks a binary model's positive class; without it the
// later name in sorted order is positive ("negative" of aaa_pos/negative),
// and a name that is not a class is refused, naming the flag.
func TestPositiveLabel(t *testing.T) {
	var b strings.Builder
	b.WriteString("text,label\n")
	for i := range 40 {
		if i%2 == 0 {
			b.WriteString("great lovely wonderful day,aaa_pos\n")
		} else {
			b.WriteString("awful terrible bad day,negative\n")
		}
	}
	data := filepath.Join(t.TempDir(), "pos.csv")
	write(t, data, []byte(b.String()))
	base := []string{"train", "fasttext", "--data", data, "--epochs", "1", "--buckets", "0", "--maxlen", "8"}
	for _, c := range []struct{ flag, want string }{{"", "negative"}, {"aaa_pos", "aaa_pos"}} {
		run := filepath.Join(t.TempDir(), "run")
		args := append(slices.Clone(base), "--out", run)
		if c.flag != "" {
			args = append(args, "--positive-label", c.flag)
		}
		if status, _, stderr := runCLI(t, "", args...); status != 0 {
			t.Fatalf("train: %s", stderr)
		}
		m, err := tapeml.Load(run)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.PositiveClass(); got != c.want {
			t.Errorf("--positive-label %q: positive class %q, want %q", c.flag, got, c.want)
		}
	}
	status, _, stderr := runCLI(t, "", append(base, "--positive-label", "spam")...)
	if status != exitUsage || !strings.Contains(stderr, "--positive-label") || !strings.Contains(stderr, "spam") {
		t.Errorf("unknown positive label: status %d, %q", status, stderr)
	}
}
