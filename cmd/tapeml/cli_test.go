package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tapeml/tapeml/checkpoint"
)

const legacyTextCNN = "../../testdata/legacy/textcnn"

// runEnv runs the command line in-process with a given environment.
func runEnv(args []string, e env) int { return run(args, e) }

func TestFlagsAnywhere(t *testing.T) {
	for _, args := range [][]string{
		{"predict", "--checkpoint", legacyTextCNN, "hello", "--json"},
		{"predict", "hello", "--checkpoint", legacyTextCNN, "--json"},
		{"predict", "hello", "--checkpoint=" + legacyTextCNN, "--json=true"},
		{"predict", "-checkpoint", legacyTextCNN, "-json", "hello"}, // Go-style, as old scripts wrote it
		{"predict", "--json", "--checkpoint", legacyTextCNN, "--", "hello"},
	} {
		status, out, stderr := runCLI(t, "", args...)
		var p struct {
			Line  int    `json:"line"`
			Class string `json:"class"`
		}
		if status != 0 || json.Unmarshal([]byte(out), &p) != nil || p.Line != 1 || p.Class == "" {
			t.Errorf("%q: status %d, stdout %q, stderr %q; want one JSON prediction", args, status, out, stderr)
		}
	}
	// A text that looks like a flag goes after "--".
	status, out, stderr := runCLI(t, "", "predict", "--checkpoint", legacyTextCNN, "--", "--json")
	if status != 0 || strings.HasPrefix(out, "{") || !strings.Contains(out, "--json") {
		t.Errorf(`"-- --json": status %d, stdout %q, stderr %q; want the text "--json" classified`, status, out, stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want []string // in the one error line
	}{
		{[]string{"train", "textcnn", "--epoch", "1"}, []string{"unknown flag --epoch", "did you mean --epochs?", "tapeml train textcnn --help"}},
		{[]string{"train", "textcnn", "-epoch", "1"}, []string{"--epochs?"}},
		{[]string{"train", "lstm", "--hiden", "8"}, []string{"did you mean --hidden?"}},
		{[]string{"predict", "--checkpont", "x"}, []string{"did you mean --checkpoint?", "tapeml predict --help"}},
		{[]string{"train", "textcnn", "--no-such-flag"}, []string{"unknown flag --no-such-flag"}},
		{[]string{"train", "textcnn", "--epochs", "x"}, []string{`invalid value "x" for --epochs`}},
		{[]string{"eval", "--checkpoint"}, []string{"flag --checkpoint needs a value"}},
		{[]string{"train", "textcnn", "stray"}, []string{`unexpected argument "stray"`}},
		{[]string{"train"}, []string{"missing model"}},
		{[]string{"train", "--epochs", "1", "textcnn"}, []string{"the model goes first: tapeml train textcnn [flags]"}},
		{[]string{"fly"}, []string{`unknown command "fly"`}},
		{[]string{"evl"}, []string{`unknown command "evl"`, `did you mean "eval"?`}},
		{[]string{"--bogus"}, []string{"unknown flag: --bogus"}},
		{[]string{"predict", "--checkpoint", legacyTextCNN, "--input-format", "xml"}, []string{"--input-format", "text, jsonl or csv"}},
		{[]string{"predict", "--checkpoint", legacyTextCNN, "--batch", "0"}, []string{"--batch must be at least 1"}},
		{[]string{"eval"}, []string{"--checkpoint is required"}},
		{[]string{"eval", "--checkpoint", legacyTextCNN, "extra"}, []string{`unexpected argument "extra"`}},
		{[]string{"export", "--checkpoint", legacyTextCNN}, []string{"--out is required"}},
		{[]string{"export", "--checkpoint", legacyTextCNN, "--out", "x.safetensors", "--dequantize"}, []string{"--dequantize is for --format onnx"}},
		{[]string{"train", "recsys", "--test-fraction", "2"}, []string{"--test-fraction must be between 0 and 1"}},
		{[]string{"train", "convnet", "stray"}, []string{`unexpected argument "stray"`}},
		// GOMAXPROCS 100000 hung training (issue 28, point 10).
		{[]string{"train", "textcnn", "--threads", "100000"}, []string{"--threads must be between 1 and 1024, got 100000"}},
		{[]string{"train", "recsys", "--threads", "-1"}, []string{"--threads must be between 1 and 1024, got -1"}},
		{[]string{"bench", "--threads", "100000"}, []string{"--threads must be between 1 and 1024, got 100000"}},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			status, out, stderr := runCLI(t, "", c.args...)
			if status != exitUsage {
				t.Errorf("exit status %d, want %d", status, exitUsage)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if n := strings.Count(strings.TrimSpace(stderr), "\n"); n != 0 || stderr == "" {
				t.Fatalf("stderr has %d lines, want one:\n%s", n+1, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
		})
	}
}

func TestHelpOnStdout(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--help"}, "Available Commands"},
		{[]string{"-h"}, "Available Commands"},
		{[]string{"help"}, "Available Commands"},
		{[]string{"help", "train"}, "tapeml train MODEL"},
		{[]string{"help", "train", "textcnn"}, "--epochs int"},
		{[]string{"train", "textcnn", "--help"}, "--epochs int"},
		{[]string{"train", "lstm", "-h"}, "--hidden int"},
		{[]string{"help", "predict"}, "--input-format string"},
		{[]string{"predict", "--help"}, "--json"},
		{[]string{"help", "completion"}, "bash"},
	}
	for _, c := range cases {
		status, out, stderr := runCLI(t, "", c.args...)
		if status != 0 || stderr != "" || !strings.Contains(out, c.want) {
			t.Errorf("%q: status %d, stderr %q, stdout lacks %q:\n%s", c.args, status, stderr, c.want, out)
		}
	}
	// No command at all is a usage error, with the usage on stderr.
	if status, out, stderr := runCLI(t, ""); status != exitUsage || out != "" || !strings.Contains(stderr, "Available Commands") {
		t.Errorf("no arguments: status %d, stdout %q, stderr %q", status, out, stderr)
	}
}

func TestVersion(t *testing.T) {
	status, out, _ := runCLI(t, "", "--version")
	if status != 0 || !strings.HasPrefix(out, "tapeml ") || !strings.Contains(out, "commit") {
		t.Fatalf("--version: status %d, %q", status, out)
	}
	info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.3.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123abc"}, {Key: "vcs.time", Value: "2026-11-29T20:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	if got, want := versionOf(info), "v0.3.0 commit 0123abc+modified (2026-11-29T20:00:00Z) go1.26.8"; got != want {
		t.Fatalf("versionOf = %q, want %q", got, want)
	}
	if got := versionOf(&debug.BuildInfo{GoVersion: "go1.26.8"}); got != "(devel) commit unknown go1.26.8" {
		t.Fatalf("versionOf without VCS = %q", got)
	}
}

func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		status, out, stderr := runCLI(t, "", "completion", shell)
		if status != 0 || !strings.Contains(out, "tapeml") || len(out) < 500 {
			t.Errorf("completion %s: status %d, %d bytes, stderr %q", shell, status, len(out), stderr)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"__complete", "train", ""}, "textcnn"},
		{[]string{"__complete", "train", "textcnn", "--ep"}, "--epochs"},
		{[]string{"__complete", "train", "lstm", "--hid"}, "--hidden"},
		{[]string{"__complete", "predict", "--inp"}, "--input-format"},
		{[]string{"__complete", "pre"}, "predict"},
	} {
		status, out, _ := runCLI(t, "", c.args...)
		if status != 0 || !strings.Contains(out, c.want) {
			t.Errorf("%q: status %d, completions %q lack %q", c.args, status, out, c.want)
		}
	}
}

func TestErrorsNameFlags(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "body.csv"), []byte("body,label\nhello,spam\n"))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "textcnn", "--data", filepath.Join(dir, "body.csv")}, "choose another with --text-column"},
		{[]string{"train", "textcnn", "--embed-dim", "0"}, "--embed-dim must be at least 1"},
		{[]string{"train", "lstm", "--layers", "0"}, "--layers must be at least 1"},
		{[]string{"train", "textcnn", "--epochs", "0"}, "--epochs must be at least 1"},
	} {
		status, _, stderr := runCLI(t, "", c.args...)
		if status == 0 || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "Options.") {
			t.Errorf("%q: status %d, stderr %q; want %q", c.args, status, stderr, c.want)
		}
	}
}

// tinyText writes a small separable CSV and returns the train flags of a
// model that trains on it in well under a second per epoch.
func tinyText(t *testing.T) []string {
	t.Helper()
	var b strings.Builder
	b.WriteString("text,label\n")
	spam, ham := strings.Fields("win free prize money click"), strings.Fields("meeting tuesday lunch report project")
	for i := range 120 {
		words, label := ham, "ham"
		if i%2 == 1 {
			words, label = spam, "spam"
		}
		fmt.Fprintf(&b, "%s %s %s %s,%s\n", words[i%5], words[(i/2)%5], words[(i/3)%5], words[(i/7)%5], label)
	}
	path := filepath.Join(t.TempDir(), "tiny.csv")
	write(t, path, []byte(b.String()))
	return []string{"train", "textcnn", "--data", path, "--maxlen", "8", "--num-words", "50", "--embed-dim", "8",
		"--filters", "4", "--widths", "2,3", "--batch", "16", "--seed", "3", "--threads", "1"}
}

func TestTrainRefusesAnotherRunsFolder(t *testing.T) {
	base := tinyText(t)
	out := filepath.Join(t.TempDir(), "run")
	if status, _, stderr := runCLI(t, "", append(base, "--epochs", "1", "--out", out)...); status != 0 {
		t.Fatalf("first run: %s", stderr)
	}
	index, err := os.ReadFile(filepath.Join(out, checkpoint.IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	status, _, stderr := runCLI(t, "", append(base, "--epochs", "2", "--out", out)...)
	if status != exitFailed || strings.Count(strings.TrimSpace(stderr), "\n") != 0 ||
		!strings.Contains(stderr, "--resume "+out) || !strings.Contains(stderr, "--force") || !strings.Contains(stderr, "new --out") {
		t.Fatalf("fresh run into a run folder: status %d, stderr %q", status, stderr)
	}
	if after, _ := os.ReadFile(filepath.Join(out, checkpoint.IndexFile)); !bytes.Equal(after, index) {
		t.Fatalf("the refused run changed index.json")
	}
	if _, err := os.Stat(filepath.Join(out, checkpoint.LockFile)); err == nil {
		t.Fatalf("the refused run left its lock file")
	}
	status, _, stderr = runCLI(t, "", append(base, "--epochs", "2", "--out", out, "--force")...)
	if status != 0 {
		t.Fatalf("--force: %s", stderr)
	}
	c, err := checkpoint.Open(out, checkpoint.PickLatest)
	if err != nil || c.Meta.Epoch != 2 {
		t.Fatalf("after --force: %v, epoch %d", err, c.Meta.Epoch)
	}
	// Resuming the run in its own folder is allowed.
	if status, _, stderr := runCLI(t, "", "train", "textcnn", "--resume", out, "--epochs", "3"); status != 0 {
		t.Fatalf("resume: %s", stderr)
	}
}

// gate is a stdout that runs f once, when a written line contains marker.
type gate struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	f      func()
}

func (g *gate) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.buf.Write(p)
	if g.f != nil && strings.Contains(g.buf.String(), g.marker) {
		g.f()
		g.f = nil
	}
	return len(p), nil
}

func TestSecondTrainIsRefusedWhileTheFirstHoldsTheLock(t *testing.T) {
	base := tinyText(t)
	out := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	second := make(chan string, 1)
	// When the first training reports its first epoch, it holds the lock:
	// the second starts then, while the first waits for its answer.
	first := &gate{marker: "epoch 1/", f: func() {
		var errb bytes.Buffer
		start := time.Now()
		status := runEnv(append(base, "--epochs", "50", "--out", out), env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &errb})
		second <- fmt.Sprintf("%d %s %s", status, time.Since(start).Round(time.Millisecond), errb.String())
		cancel()
	}}
	status := runEnv(append(base, "--epochs", "50", "--out", out), env{stdin: strings.NewReader(""), stdout: first, stderr: io.Discard, ctx: ctx})
	if status != exitInterrupted {
		t.Fatalf("first training: status %d, want %d (interrupted after the second was refused)", status, exitInterrupted)
	}
	got := <-second
	want := fmt.Sprintf("locked by process %d", os.Getpid())
	if !strings.HasPrefix(got, "1 ") || !strings.Contains(got, want) {
		t.Fatalf("second training: %q; want status 1 and %q", got, want)
	}
	t.Logf("second training refused: %s", strings.TrimSpace(got))
}

// Ctrl-C in epoch 2 keeps epoch 1; resuming from it reaches the weights of
// an uninterrupted run exactly.
func TestInterruptedTrainingResumesToTheSameWeights(t *testing.T) {
	base := append(tinyText(t), "--epochs", "3")
	straight := filepath.Join(t.TempDir(), "straight")
	if status, _, stderr := runCLI(t, "", append(base, "--out", straight)...); status != 0 {
		t.Fatal(stderr)
	}

	cut := filepath.Join(t.TempDir(), "cut")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The first epoch's line is printed after its checkpoint is saved.
	stdout := &gate{marker: "epoch 1/3", f: cancel}
	var stderr bytes.Buffer
	status := runEnv(append(base, "--out", cut), env{stdin: strings.NewReader(""), stdout: stdout, stderr: &stderr, ctx: ctx})
	msg := stderr.String()
	if status != exitInterrupted || strings.Count(strings.TrimSpace(msg), "\n") != 0 ||
		!strings.Contains(msg, "interrupted in epoch 2") || !strings.Contains(msg, "continue with: tapeml train textcnn --resume ") {
		t.Fatalf("interrupted training: status %d, stderr %q", status, msg)
	}
	if _, err := os.Stat(filepath.Join(cut, checkpoint.LockFile)); err == nil {
		t.Fatalf("the interrupted training left its lock")
	}
	if c, err := checkpoint.Open(cut, checkpoint.PickLatest); err != nil || c.Meta.Epoch != 1 {
		t.Fatalf("after the interruption: %v; want the latest checkpoint at epoch 1", err)
	}
	resumeCmd := strings.Fields(msg[strings.Index(msg, "continue with: ")+len("continue with: "):])
	if status, _, stderr := runCLI(t, "", resumeCmd[1:]...); status != 0 {
		t.Fatalf("%q: %s", resumeCmd, stderr)
	}

	a, err := checkpoint.Open(straight, checkpoint.PickLatest)
	if err != nil {
		t.Fatal(err)
	}
	b, err := checkpoint.Open(cut, checkpoint.PickLatest)
	if err != nil {
		t.Fatal(err)
	}
	if a.Meta.Epoch != 3 || b.Meta.Epoch != 3 || len(a.Weights) != len(b.Weights) {
		t.Fatalf("epochs %d and %d, %d and %d tensors", a.Meta.Epoch, b.Meta.Epoch, len(a.Weights), len(b.Weights))
	}
	for i, ta := range a.Weights {
		va, err1 := ta.Float32s()
		vb, err2 := b.Weights[i].Float32s()
		if err1 != nil || err2 != nil {
			continue // integer buffers
		}
		for j := range va {
			if math.Float32bits(va[j]) != math.Float32bits(vb[j]) {
				t.Fatalf("%s[%d]: uninterrupted %v, interrupted and resumed %v", ta.Name, j, va[j], vb[j])
			}
		}
	}
}

// predict answers each batch of stdin before the next arrives.
func TestPredictStreamsStdin(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- runEnv([]string{"predict", "--checkpoint", legacyTextCNN, "--json"}, env{stdin: inR, stdout: outW, stderr: io.Discard})
		outW.Close()
	}()
	lines := bufio.NewScanner(outR)
	for i := 1; i <= 3; i++ {
		if _, err := fmt.Fprintf(inW, "text number %d\n", i); err != nil {
			t.Fatal(err)
		}
		got := make(chan string, 1)
		go func() {
			lines.Scan()
			got <- lines.Text()
		}()
		select {
		case line := <-got:
			var p struct{ Line int }
			if err := json.Unmarshal([]byte(line), &p); err != nil || p.Line != i {
				t.Fatalf("answer %d: %q", i, line)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("no answer to line %d while stdin stays open: predict waits for the end of its input", i)
		}
	}
	inW.Close()
	if status := <-done; status != 0 {
		t.Fatalf("status %d", status)
	}
}

// lines generates n texts of about size bytes without holding them.
type lines struct {
	n, size, i int
	pending    []byte
}

func (l *lines) Read(p []byte) (int, error) {
	if len(l.pending) == 0 {
		if l.i == l.n {
			return 0, io.EOF
		}
		l.i++
		l.pending = fmt.Appendf(nil, "%s message %d\n", strings.Repeat("free money ", l.size/11), l.i)
	}
	n := copy(p, l.pending)
	l.pending = l.pending[n:]
	return n, nil
}

// counter counts output lines and checks their line numbers.
type counter struct {
	n       int
	partial []byte
	bad     string
}

func (c *counter) Write(p []byte) (int, error) {
	c.partial = append(c.partial, p...)
	for {
		i := bytes.IndexByte(c.partial, '\n')
		if i < 0 {
			break
		}
		var r struct{ Line int }
		if err := json.Unmarshal(c.partial[:i], &r); err != nil || r.Line != c.n+1 {
			if c.bad == "" {
				c.bad = string(c.partial[:i])
			}
		}
		c.n++
		c.partial = c.partial[i+1:]
	}
	return len(p), nil
}

// A large stdin is predicted with memory bounded by the batch, not the input.
func TestPredictLargeStdinBoundedMemory(t *testing.T) {
	const n, size = 10000, 3000 // 30 MB of input
	var peak uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	out := &counter{}
	var stderr bytes.Buffer
	status := runEnv([]string{"predict", "--checkpoint", legacyTextCNN, "--json", "--batch", "64"}, env{stdin: &lines{n: n, size: size}, stdout: out, stderr: &stderr})
	close(stop)
	<-sampled
	if status != 0 {
		t.Fatalf("status %d: %s", status, stderr.String())
	}
	if out.n != n || out.bad != "" {
		t.Fatalf("%d predictions for %d lines; first out of order: %q", out.n, n, out.bad)
	}
	t.Logf("%d lines, %d MB of input: peak heap %.1f MB", n, n*size>>20, float64(peak)/(1<<20))
	if peak > 20<<20 {
		t.Fatalf("peak heap %.0f MB for %d MB of input: predict holds its input", float64(peak)/(1<<20), n*size>>20)
	}
}

func TestPredictInputFormats(t *testing.T) {
	cases := []struct {
		name, stdin string
		args        []string
		lines       []int  // the line numbers answered
		err         string // in the error, if it fails
	}{
		{"text", "a\nb\n\nc", nil, []int{1, 2, 3, 4}, ""},
		{"jsonl", `{"text":"a"}` + "\n\n" + `{"text":"b","id":7}` + "\n", []string{"--input-format", "jsonl"}, []int{1, 3}, ""},
		{"jsonl other field", `{"body":"a"}` + "\n", []string{"--input-format", "jsonl", "--text-column", "body"}, []int{1}, ""},
		{"jsonl missing field", `{"text":"a"}` + "\n" + `{"body":"b"}` + "\n", []string{"--input-format", "jsonl"}, []int{1}, `stdin line 2: no "text" field (--text-column names it)`},
		{"jsonl not an object", "[1]\n", []string{"--input-format", "jsonl"}, nil, "stdin line 1: not a JSON object"},
		{"jsonl not a string", `{"text":3}` + "\n", []string{"--input-format", "jsonl"}, nil, `stdin line 1: field "text" is not a string`},
		{"csv", "id,text\n1,\"two\nlines\"\n2,b\n", []string{"--input-format", "csv"}, []int{2, 4}, ""},
		{"csv missing column", "id,body\n1,a\n", []string{"--input-format", "csv"}, nil, `no "text" column (--text-column names it`},
		{"csv ragged", "id,text\n1,a\n2\n", []string{"--input-format", "csv"}, []int{2}, "line 3"},
		{"not UTF-8", "ok\ncaf\xe9\n", nil, []int{1}, "stdin line 2 is not valid UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, out, stderr := runCLI(t, c.stdin, append([]string{"predict", "--checkpoint", legacyTextCNN, "--json"}, c.args...)...)
			var got []int
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				var p struct{ Line int }
				if l != "" && json.Unmarshal([]byte(l), &p) == nil {
					got = append(got, p.Line)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(c.lines) {
				t.Errorf("answered lines %v, want %v", got, c.lines)
			}
			if c.err == "" && status != 0 || c.err != "" && (status != exitFailed || !strings.Contains(stderr, c.err)) {
				t.Errorf("status %d, stderr %q; want error %q", status, stderr, c.err)
			}
		})
	}
}
