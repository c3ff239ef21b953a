package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/tapemltest"
)

// A model whose finite weights overflow gives NaN or infinite outputs:
// predict and eval exit with an error naming the input, never print
// "NaN ham" or "loss NaN" with status 0 (issue 28, point 5). Inputs
// without the overflowing word are still answered.
func TestNonFiniteOutputsAreErrors(t *testing.T) {
	dir := t.TempDir()
	win := filepath.Join(dir, "win")
	if err := tapemltest.Overflowing(legacyTextCNN, win, 31); err != nil { // 31: "win"
		t.Fatal(err)
	}
	data := filepath.Join(dir, "mail.csv")
	var b strings.Builder
	b.WriteString("text,label\n")
	for i := range 40 {
		if i%2 == 0 {
			b.WriteString("meeting tomorrow at the office,ham\n")
		} else {
			b.WriteString("claim your free cash now win,spam\n")
		}
	}
	write(t, data, []byte(b.String()))
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"predict arguments", "", []string{"predict", "--checkpoint", win, "meeting tomorrow", "win free cash now"}, `line 2 ("win free cash now"): the model's output is`},
		{"predict stdin", "meeting tomorrow\nlunch on friday\nyou win a prize\n", []string{"predict", "--checkpoint", win, "--json"}, `line 3 ("you win a prize"): the model's output is`},
		{"predict csv", "id,text\n1,hello\n2,\"win\nnow\"\n", []string{"predict", "--checkpoint", win, "--input-format", "csv"}, `line 3 ("win now"): the model's output is`},
		{"eval", "", []string{"eval", "--checkpoint", win, "--data", data}, data + ", test example"},
		{"eval json", "", []string{"eval", "--checkpoint", win, "--data", data, "--json"}, "not an answer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, stdout, stderr := runCLI(t, tc.stdin, tc.args...)
			if status != exitFailed || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Fatalf("status %d, stderr %q; want one error line with %q", status, stderr, tc.want)
			}
			if strings.Contains(stdout, "NaN") || strings.Contains(stdout, "null") && tc.args[0] == "predict" {
				t.Errorf("stdout %q", stdout)
			}
		})
	}
	if status, stdout, stderr := runCLI(t, "", "predict", "--checkpoint", win, "meeting tomorrow"); status != 0 || !strings.Contains(stdout, "meeting tomorrow") {
		t.Errorf("an input without the word: status %d, %s%s", status, stdout, stderr)
	}
}

// A normalization std that is 0 in float32 (1e-300) is refused when the
// checkpoint is opened, naming the field, before any image is normalized
// into infinities.
func TestTinyStdRefusedAtLoad(t *testing.T) {
	src := grayConvnet(t)
	c, err := checkpoint.Load(src)
	if err != nil {
		t.Fatal(err)
	}
	var pre map[string]any
	if err := json.Unmarshal(c.Meta.Preprocessing, &pre); err != nil {
		t.Fatal(err)
	}
	pre["pipeline"].(map[string]any)["std"] = []float64{1e-300}
	if c.Meta.Preprocessing, err = json.Marshal(pre); err != nil {
		t.Fatal(err)
	}
	c.Dir = ""
	tampered := filepath.Join(t.TempDir(), "tampered")
	if err := checkpoint.Save(tampered, c); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(t.TempDir(), "a.png")
	write(t, img, pngBytes(t, true, 1, false))
	status, stdout, stderr := runCLI(t, "", "predict", "--checkpoint", tampered, img)
	if status != exitFailed || !strings.Contains(stderr, "std 1e-300") || !strings.Contains(stderr, "not finite in float32") {
		t.Fatalf("status %d, stderr %q, stdout %q", status, stderr, stdout)
	}
	if _, err := os.Stat(tampered); err != nil {
		t.Fatal(err)
	}
}
