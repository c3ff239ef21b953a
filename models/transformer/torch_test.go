package transformer_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// python is Debian's interpreter, for which python3-torch is installed.
const python = "/usr/bin/python3"

// pytorch is tools/pytorch/hf_load.py, started by TestMain so that
// PyTorch's start (seconds) overlaps the other tests; TestExportHFPyTorch,
// in this file named to run last, hands it its folders. Nil when that
// test is not selected.
var pytorch *hfLoad

type hfLoad struct {
	cmd            *exec.Cmd
	stdin          io.WriteCloser
	stdout, stderr bytes.Buffer
	err            error // why it did not start
	done           bool  // waited for
}

func TestMain(m *testing.M) {
	flag.Parse()
	if selected("TestExportHFPyTorch") && !testing.Short() {
		pytorch = startHFLoad()
	}
	code := m.Run()
	if p := pytorch; p != nil && p.err == nil && !p.done {
		p.stdin.Close() // it reads no pairs and exits
		p.cmd.Process.Kill()
		p.cmd.Wait()
	}
	os.Exit(code)
}

// selected reports whether -run selects the top-level test name.
func selected(name string) bool {
	run := flag.Lookup("test.run").Value.String()
	if run == "" {
		return true
	}
	re, err := regexp.Compile(strings.Split(run, "/")[0])
	return err != nil || re.MatchString(name)
}

// startHFLoad starts hf_load.py reading its pairs from stdin.
func startHFLoad() *hfLoad {
	p := &hfLoad{}
	if _, p.err = os.Stat(python); p.err != nil {
		return p
	}
	p.cmd = exec.Command(python, filepath.Join("..", "..", "tools", "pytorch", "hf_load.py"), "-")
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if p.stdin, p.err = p.cmd.StdinPipe(); p.err != nil {
		return p
	}
	p.err = p.cmd.Start()
	return p
}

// run hands the pairs of folder and ids file to hf_load.py and waits for
// it: its stdout and stderr.
func (p *hfLoad) run(pairs [][2]string) (string, string, error) {
	var in strings.Builder
	for _, pr := range pairs {
		in.WriteString(pr[0] + "\t" + pr[1] + "\n")
	}
	_, err := io.WriteString(p.stdin, in.String())
	p.stdin.Close()
	if werr := p.cmd.Wait(); err == nil {
		err = werr
	}
	p.done = true
	return p.stdout.String(), p.stderr.String(), err
}

// TestExportHFPyTorch loads every exported folder strictly into the
// PyTorch reference (tools/pytorch/hf_load.py: load_state_dict(strict=True)
// with Hugging Face's names) and compares its logits: the fixtures'
// within 1e-5 of their goldens, a scratch model's within 1e-5 of tapeml's
// (a binary head's two logits against (z, 0)).
func TestExportHFPyTorch(t *testing.T) {
	switch {
	case testing.Short():
		t.Skip("starts PyTorch")
	case pytorch == nil:
		t.Skip("TestMain did not start tools/pytorch/hf_load.py")
	case pytorch.err != nil:
		t.Skipf("no PyTorch to check the export against: %s: %v", python, pytorch.err)
	}
	tmp := t.TempDir()
	var pairs [][2]string
	for _, fixture := range []string{hfFixture, "testdata/hf-distilbert"} {
		golden, _ := filepath.Abs(filepath.Join(fixture, "golden.json"))
		pairs = append(pairs, [2]string{exportHF(t, importFixture(t, fixture)), golden})
	}
	for _, classes := range [][]string{{"finance", "sport", "weather"}, {"ham", "spam"}} {
		dir := scratch(t, classes)
		ids := scratchIDs(t, dir)
		logits := forward(t, dir, ids)
		if len(classes) == 2 { // positive 0: Hugging Face's logits (z, 0)
			for i := range logits {
				logits[i] = []float64{logits[i][0], 0}
			}
		}
		golden := filepath.Join(tmp, strings.Join(classes, "-")+".json")
		b, _ := json.Marshal(map[string]any{"ids": ids, "logits": logits})
		if err := os.WriteFile(golden, b, 0o644); err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, [2]string{exportHF(t, dir), golden})
	}
	out, stderr, err := pytorch.run(pairs)
	t.Logf("%s", stderr)
	if err != nil && strings.Contains(stderr, "No module named 'torch'") {
		t.Skipf("%s cannot import torch (apt-get install python3-torch), so the export is not checked against PyTorch", python)
	}
	if err != nil {
		t.Fatalf("hf_load.py: %v\n%s", err, stderr)
	}
	if n := strings.Count(out, "\n"); n != len(pairs) {
		t.Errorf("hf_load.py printed %d results for %d folders", n, len(pairs))
	}
}
