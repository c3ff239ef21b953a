package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/imageclass"
	"github.com/tapeml/tapeml/imagedata"
	"github.com/tapeml/tapeml/models/convnet"
)

const legacyDir = "../../testdata/legacy"

// grayConvnet writes a 1-channel 8×8 convnet checkpoint with random
// weights.
func grayConvnet(t *testing.T) string {
	t.Helper()
	cfg := convnet.Config{Channels: 1, Height: 8, Width: 8, Classes: 2, Dropout: 0.5}
	net, err := convnet.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	params := graph.NewParams(tensor.Float32, 3)
	if err := graph.Materialize(net.Build, params); err != nil {
		t.Fatal(err)
	}
	pipe, err := imagedata.NewPipeline(1, 8, 8, nil, []float64{0.5}, []float64{0.25})
	if err != nil {
		t.Fatal(err)
	}
	model, _ := json.Marshal(cfg)
	run, _ := json.Marshal(imageclass.Run{Model: model, Data: imageclass.Source{Path: "images/"}})
	pre, _ := json.Marshal(imageclass.Preprocessing{Pipeline: pipe, Classes: []string{"left", "right"}})
	c := &checkpoint.Checkpoint{Weights: checkpoint.Weights(params), Extra: map[string][]byte{}}
	c.Meta.ModelKind, c.Meta.ModelConfig, c.Meta.Preprocessing, c.Meta.WeightsOnly = convnet.Kind, run, pre, true
	dir := filepath.Join(t.TempDir(), "convnet")
	if err := checkpoint.Save(dir, c); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestExplainCommand(t *testing.T) {
	out := t.TempDir()
	text := filepath.Join(legacyDir, "textcnn")
	status, stdout, stderr := runCLI(t, "", "explain", "--checkpoint", text, "--out", out, "win free cash NOW", "meeting with the team", "--top", "2")
	if status != 0 {
		t.Fatalf("status %d: %s", status, stderr)
	}
	if !strings.Contains(stdout, "NOW") || !strings.Contains(stdout, "ig (adaptive, ") || !strings.Contains(stdout, " evaluations of 1500, baseline pad)") {
		t.Errorf("output lacks the tokens or the method line:\n%s", stdout)
	}
	pages, _ := filepath.Glob(filepath.Join(out, "meeting-with-the-team-*.html"))
	if len(pages) != 1 {
		t.Fatalf("pages %v: want one named after the text", pages)
	}
	page, err := os.ReadFile(pages[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), "meeting") || !strings.Contains(string(page), "background:#") || !strings.Contains(string(page), "textcnn") {
		t.Errorf("page lacks highlighted tokens or the model:\n%s", page)
	}
	// A second run into the same folder refuses to replace the pages,
	// unless --force; the fixed rule is still there.
	status, _, stderr = runCLI(t, "", "explain", "--checkpoint", text, "--out", out, "win free cash NOW")
	if status == 0 || !strings.Contains(stderr, "exists (a file); refusing to replace it without --force") {
		t.Errorf("second run: status %d, %q", status, stderr)
	}
	status, stdout, stderr = runCLI(t, "", "explain", "--checkpoint", text, "--out", out, "--force", "--quadrature", "gauss", "--steps", "50", "win free cash NOW")
	if status != 0 || !strings.Contains(stdout, "ig (50 gauss points, baseline pad)") {
		t.Errorf("--force: status %d, %s\n%s", status, stderr, stdout)
	}

	status, stdout, stderr = runCLI(t, "win free cash\n", "explain", "--checkpoint", text, "--json", "--method", "occlusion")
	if status != 0 {
		t.Fatalf("status %d: %s", status, stderr)
	}
	var v struct {
		Explanation struct {
			Method string `json:"method"`
			Tokens []struct {
				Token string  `json:"token"`
				Score float64 `json:"score"`
			} `json:"tokens"`
		} `json:"explanation"`
	}
	if err := json.Unmarshal([]byte(stdout), &v); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if v.Explanation.Method != "occlusion" || len(v.Explanation.Tokens) != 3 {
		t.Errorf("JSON %s", stdout)
	}

	img := grayConvnet(t)
	pic := filepath.Join(t.TempDir(), "pic.png")
	write(t, pic, pngBytes(t, true, 2, false))
	status, stdout, stderr = runCLI(t, "", "explain", "--checkpoint", img, "--out", out, "--baseline", "blur", "--sanity", pic)
	if status != 0 {
		t.Fatalf("status %d: %s", status, stderr)
	}
	if !strings.Contains(stdout, "sanity: Spearman") {
		t.Errorf("no sanity line:\n%s", stdout)
	}
	for _, name := range []string{"pic-ig.png", "pic-ig.svg"} {
		if fi, err := os.Stat(filepath.Join(out, name)); err != nil || fi.Size() == 0 {
			t.Errorf("no heat map: %v", err)
		}
	}
	svg, _ := os.ReadFile(filepath.Join(out, "pic-ig.svg"))
	for _, want := range []string{">predicted ", ">attribution<", ">input<", "green: for ", "grayConvnet"} {
		if want == "grayConvnet" {
			want = ">convnet · "
		}
		if !strings.Contains(string(svg), want) {
			t.Errorf("the heat map's SVG lacks %q", want)
		}
	}

	for _, algo := range []string{"knn", "mf"} {
		status, stdout, stderr = runCLI(t, "", "explain", "--checkpoint", filepath.Join(legacyDir, algo), "--user", "1", "--item", "2", "--json")
		if status != 0 {
			t.Fatalf("%s: status %d: %s", algo, status, stderr)
		}
		var r struct {
			Method        string           `json:"method"`
			Contributions []map[string]any `json:"contributions"`
		}
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("%s: %v: %s", algo, err, stdout)
		}
		if !strings.HasPrefix(r.Method, algo) {
			t.Errorf("%s: method %q", algo, r.Method)
		}
	}
}

func TestExplainBadInput(t *testing.T) {
	text := filepath.Join(legacyDir, "textcnn")
	img := grayConvnet(t)
	colour := filepath.Join(t.TempDir(), "colour.png")
	write(t, colour, pngBytes(t, true, 2, true))
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown target", []string{"explain", "--checkpoint", text, "--target", "eggs", "win cash"}, `unknown target class "eggs"`},
		{"all out of vocabulary", []string{"explain", "--checkpoint", text, "zzqx blorf"}, "text 0: none of its 2 words is in the model's vocabulary"},
		{"colour image for a grayscale model", []string{"explain", "--checkpoint", img, colour}, "colour.png"},
		{"steps 0", []string{"explain", "--checkpoint", text, "--steps", "0", "win"}, "--steps must be at least 1, got 0"},
		{"steps with the adaptive rule", []string{"explain", "--checkpoint", text, "--quadrature", "adaptive", "--steps", "9", "win"}, "takes --max-steps"},
		{"max-steps with a fixed rule", []string{"explain", "--checkpoint", text, "--quadrature", "riemann", "--max-steps", "99", "win"}, "--quadrature riemann takes --steps"},
		{"max-steps too small", []string{"explain", "--checkpoint", text, "--max-steps", "5", "win"}, "MaxSteps is 5"},
		{"smoothgrad on text", []string{"explain", "--checkpoint", text, "--smoothgrad", "4", "win"}, "SmoothGrad adds noise to images"},
		{"unknown method", []string{"explain", "--checkpoint", text, "--method", "lime", "win"}, `unknown attribution method "lime"`},
		{"unknown baseline", []string{"explain", "--checkpoint", text, "--baseline", "noise", "win"}, `unknown text baseline "noise"`},
		{"no checkpoint", []string{"explain", "win"}, "--checkpoint is required"},
		{"no images", []string{"explain", "--checkpoint", img}, "no images"},
		{"missing image", []string{"explain", "--checkpoint", img, "nope.png"}, "nope.png"},
		{"recommender without item", []string{"explain", "--checkpoint", filepath.Join(legacyDir, "knn"), "--user", "1"}, "give --user and --item"},
		{"unknown user", []string{"explain", "--checkpoint", filepath.Join(legacyDir, "mf"), "--user", "nobody", "--item", "2"}, `user "nobody" has no training ratings`},
		{"user on a classifier", []string{"explain", "--checkpoint", text, "--user", "1", "--item", "2"}, "--user and --item are for recommenders"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, _, stderr := runCLI(t, "", c.args...)
			if status == 0 || !strings.Contains(stderr, c.want) {
				t.Fatalf("status %d, stderr %q, want one containing %q", status, stderr, c.want)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") != 0 || strings.Contains(stderr, "panic") {
				t.Fatalf("not a one-line error: %q", stderr)
			}
		})
	}
}
