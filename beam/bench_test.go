package tapebeam

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tapeml/tapeml/samples"
)

// BenchmarkPrismVsPredict scores the same JSONL file of e-mails (the
// built-in SpamAssassin sample, 2,000 messages with headers, five times
// over: 10,000 texts) on Prism, in process, and with `tapeml predict
// --json` as one process, alternately in each iteration, and reports both
// throughputs and their ratio. Both include loading the model (the
// process-wide cache is cleared). The model is $TAPEBEAM_BENCH_MODEL, or
// else a TextCNN trained on the built-in sample with `tapeml train
// textcnn` (about 10 s) before timing starts.
//
//	cd beam && go test -run '^$' -bench PrismVsPredict -benchtime 3x .
func BenchmarkPrismVsPredict(b *testing.B) {
	bin := tapemlBinary(b)
	dir := b.TempDir()
	model := os.Getenv("TAPEBEAM_BENCH_MODEL")
	if model == "" {
		benchRun.Do(func() {
			benchRun.path = filepath.Join(binDir, "run") // removed with the binary
			if out, err := exec.Command(bin, "train", "textcnn", "--out", benchRun.path).CombinedOutput(); err != nil {
				benchRun.err = fmt.Errorf("tapeml train textcnn: %v\n%s", err, out)
			}
		})
		if benchRun.err != nil {
			b.Fatal(benchRun.err)
		}
		model = benchRun.path
	}
	msgs, err := samples.SpamAssassinMessages()
	if err != nil {
		b.Fatal(err)
	}
	var in bytes.Buffer
	n := 0
	for range 5 {
		for _, m := range msgs {
			in.WriteString(mustJSON(map[string]string{"text": m.Text}) + "\n")
			n++
		}
	}
	input := filepath.Join(dir, "mail.jsonl")
	writeFile(b, input, in.String())
	b.Logf("CPU: %s, GOMAXPROCS %d; %d texts (%.1f MB); model %s", cpuName(), runtime.GOMAXPROCS(0), n, float64(in.Len())/1e6, model)

	var onPrism, inPredict time.Duration
	b.ResetTimer()
	for range b.N {
		out := filepath.Join(dir, "prism.jsonl")
		forgetModels()
		start := time.Now()
		runScoreFiles(b, Files{Model: model, Input: input, Output: out, Format: "jsonl"})
		onPrism += time.Since(start)
		if got := countLines(b, out); got != n {
			b.Fatalf("Prism wrote %d objects for %d texts", got, n)
		}

		cmd := exec.Command(bin, "predict", "--checkpoint", model, "--json", "--input-format", "jsonl")
		cmd.Stdin = bytes.NewReader(in.Bytes())
		var stdout bytes.Buffer
		cmd.Stdout = &stdout
		start = time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatalf("tapeml predict: %v", err)
		}
		inPredict += time.Since(start)
		if got := bytes.Count(stdout.Bytes(), []byte("\n")); got != n {
			b.Fatalf("tapeml predict printed %d objects for %d texts", got, n)
		}
	}
	total := float64(n * b.N)
	b.ReportMetric(total/onPrism.Seconds(), "prism-texts/s")
	b.ReportMetric(total/inPredict.Seconds(), "predict-texts/s")
	b.ReportMetric(inPredict.Seconds()/onPrism.Seconds(), "prism/predict")
}

// benchRun is the TextCNN trained once per test binary for the benchmark.
var benchRun struct {
	sync.Once
	path string
	err  error
}

// forgetModels empties the process-wide model cache.
func forgetModels() {
	models.mu.Lock()
	models.m = nil
	models.mu.Unlock()
}

func countLines(b *testing.B, path string) int {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<26)
	n := 0
	for sc.Scan() {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &obj); err != nil {
			b.Fatal(err)
		}
		n++
	}
	return n
}

// cpuName is /proc/cpuinfo's model name, or GOARCH.
func cpuName() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
