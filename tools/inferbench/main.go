// Command inferbench measures tapeml's inference speed against ONNX
// Runtime's on the same exported model, with the same thread count, in one
// run, and prints the ratios.
//
//	go run ./tools/inferbench [-models textcnn,lstm,convnet] [-seconds 3] [-json]
//
// Each model is the reference configuration with seeded random weights
// (batch-norm statistics included), saved as a checkpoint, loaded with
// tapeml.Load and exported to ONNX. tapeml runs Model.Forward on token ids
// or normalized images — the inputs the ONNX graph takes, so neither side
// pays for preprocessing — at batch 32 (throughput) and batch 1 (latency
// percentiles). ONNX Runtime (npm onnxruntime-node, in tools/onnx: `npm
// ci --ignore-scripts` there first) runs tools/onnx/bench.mjs on the same
// inputs with GOMAXPROCS intra-op threads. Without node or the package the
// ONNX Runtime columns are left empty.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/export"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/imagedata"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/models/convnet"
	"github.com/tapeml/tapeml/models/lstm"
	"github.com/tapeml/tapeml/models/textcnn"
	"github.com/tapeml/tapeml/text"
	"github.com/tapeml/tapeml/textclass"
	"github.com/tapeml/tapeml/train"
)

// Result is one model's figures.
type Result struct {
	Model   string  `json:"model"`
	Threads int     `json:"threads"`
	Tapeml  Timings `json:"tapeml"`
	ORT     Timings `json:"onnxruntime"`
	// Ratio is tapeml's batch-32 throughput over ONNX Runtime's (0 when
	// ONNX Runtime did not run).
	Ratio float64 `json:"ratio_batch32"`
}

// Timings are throughput at batch 32 and latency at batch 1.
type Timings struct {
	SamplesPerS float64 `json:"batch32_samples_per_s"`
	P50ms       float64 `json:"batch1_p50_ms"`
	P99ms       float64 `json:"batch1_p99_ms"`
}

func main() {
	models := flag.String("models", "textcnn,lstm,convnet", "models to measure")
	seconds := flag.Float64("seconds", 3, "time spent on each measurement")
	asJSON := flag.Bool("json", false, "print JSON lines instead of a table")
	noORT := flag.Bool("tapeml-only", false, "skip ONNX Runtime")
	profile := flag.String("cpuprofile", "", "write a CPU profile of tapeml's runs to this file")
	flag.Parse()
	skipORT = *noORT
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	dir, err := os.MkdirTemp("", "inferbench")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(dir)
	var results []Result
	for _, name := range strings.Split(*models, ",") {
		r, err := measure(name, dir, time.Duration(*seconds*float64(time.Second)))
		if err != nil {
			fatal(fmt.Errorf("%s: %w", name, err))
		}
		results = append(results, r)
		if *asJSON {
			b, _ := json.Marshal(r)
			fmt.Println(string(b))
		}
	}
	if !*asJSON {
		printTable(results)
	}
}

var skipORT bool

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "inferbench:", err)
	os.Exit(1)
}

func printTable(rs []Result) {
	fmt.Printf("CPU: %s; %d threads on both sides\n", cpuName(), runtime.GOMAXPROCS(0))
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "model\ttapeml b32 samples/s\tORT b32 samples/s\tratio\ttapeml b1 p50/p99 ms\tORT b1 p50/p99 ms")
	for _, r := range rs {
		fmt.Fprintf(w, "%s\t%.0f\t%.0f\t%.2f×\t%.3f / %.3f\t%.3f / %.3f\n", r.Model,
			r.Tapeml.SamplesPerS, r.ORT.SamplesPerS, r.Ratio, r.Tapeml.P50ms, r.Tapeml.P99ms, r.ORT.P50ms, r.ORT.P99ms)
	}
	w.Flush()
}

func cpuName() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// batchInput is one input of a batch, in the form both sides take.
type batchInput struct {
	Name  string    `json:"-"`
	Dtype string    `json:"dtype"`
	Shape []int     `json:"shape"`
	Data  []float32 `json:"data"`
}

func measure(name, dir string, d time.Duration) (Result, error) {
	path, inputs, err := reference(name, dir)
	if err != nil {
		return Result{}, err
	}
	m, err := tapeml.Load(path)
	if err != nil {
		return Result{}, err
	}
	if err := m.Warmup(context.Background()); err != nil {
		return Result{}, err
	}
	onnxPath := filepath.Join(dir, name+".onnx")
	c, err := checkpoint.Load(path)
	if err != nil {
		return Result{}, err
	}
	if err := export.WriteFile(c, export.ONNX, onnxPath); err != nil {
		return Result{}, err
	}
	r := Result{Model: name, Threads: runtime.GOMAXPROCS(0)}
	if r.Tapeml, err = timeTapeml(m, inputs, d); err != nil {
		return r, err
	}
	if skipORT {
		return r, nil
	}
	r.ORT, err = timeORT(onnxPath, inputs, dir, d)
	if err != nil {
		fmt.Fprintf(os.Stderr, "inferbench: %s: ONNX Runtime not measured: %v\n", name, err)
	} else if r.ORT.SamplesPerS > 0 {
		r.Ratio = r.Tapeml.SamplesPerS / r.ORT.SamplesPerS
	}
	return r, nil
}

// reference saves the reference model of a kind with random weights as a
// checkpoint and returns its folder and batches of 32 and 1.
func reference(name, dir string) (string, map[int]batchInput, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	var (
		net    train.Model
		runCfg any
		pre    any
		input  func(n int) batchInput
	)
	textPre := func(vocab, maxLen int) *textclass.Preprocess {
		return &textclass.Preprocess{Tokenizer: text.NewTokenizer(text.TokenizerConfig{NumWords: vocab}), Pad: text.PadConfig{MaxLen: maxLen}, Classes: []string{"neg", "pos"}, Positive: 1}
	}
	// Token ids with a random amount of 'pre' padding, as real texts have.
	ids := func(n, maxLen, vocab int) batchInput {
		v := make([]float32, n*maxLen)
		for i := range n {
			pad := rng.IntN(maxLen / 2)
			for j := pad; j < maxLen; j++ {
				v[i*maxLen+j] = float32(1 + rng.IntN(vocab-1))
			}
		}
		return batchInput{Name: "ids", Dtype: "int64", Shape: []int{n, maxLen}, Data: v}
	}
	switch name {
	case textcnn.Kind:
		cfg := textcnn.DefaultConfig()
		net, _ = textcnn.New(cfg)
		arch, _ := json.Marshal(cfg)
		runCfg, pre = kinds.TextRun{Model: arch, Data: kinds.TextSource{Path: kinds.BuiltinText}}, textPre(cfg.NumWords, cfg.MaxLen)
		input = func(n int) batchInput { return ids(n, cfg.MaxLen, cfg.NumWords) }
	case lstm.Kind:
		cfg := lstm.DefaultConfig()
		net, _ = lstm.New(cfg)
		arch, _ := json.Marshal(cfg)
		runCfg, pre = kinds.TextRun{Model: arch, Data: kinds.TextSource{Path: kinds.BuiltinText}}, textPre(cfg.NumWords, cfg.MaxLen)
		input = func(n int) batchInput { return ids(n, cfg.MaxLen, cfg.NumWords) }
	case convnet.Kind:
		cfg := convnet.DefaultConfig()
		net, _ = convnet.New(cfg)
		pipe, err := imagedata.NewPipeline(3, 32, 32, nil, []float64{0.49, 0.48, 0.45}, []float64{0.25, 0.24, 0.26})
		if err != nil {
			return "", nil, err
		}
		classes := make([]string, cfg.Classes)
		for i := range classes {
			classes[i] = fmt.Sprint("class", i)
		}
		runCfg, pre = kinds.ImageRun{Model: cfg, Data: kinds.ImageSource{Path: kinds.BuiltinImages}}, kinds.ImagePreprocessing{Pipeline: pipe, Classes: classes}
		input = func(n int) batchInput {
			v := make([]float32, n*3*32*32)
			for i := range v {
				v[i] = float32(rng.NormFloat64())
			}
			return batchInput{Name: "images", Dtype: "float32", Shape: []int{n, 3, 32, 32}, Data: v}
		}
	default:
		return "", nil, fmt.Errorf("unknown model (want textcnn, lstm or convnet)")
	}
	params := graph.NewParams(tensor.Float32, 1)
	if err := graph.Materialize(net.Build, params); err != nil {
		return "", nil, err
	}
	for _, p := range params.List() {
		if strings.HasSuffix(p.Name, ".running_var") || strings.HasSuffix(p.Name, ".running_mean") {
			for i := range p.Value.Float32s() {
				p.Value.Float32s()[i] += 0.5 * rng.Float32()
			}
		}
	}
	c := &checkpoint.Checkpoint{Weights: train.Weights(params), Extra: map[string][]byte{}}
	c.Meta.ModelKind, c.Meta.WeightsOnly = name, true
	var err error
	if c.Meta.ModelConfig, err = json.Marshal(runCfg); err != nil {
		return "", nil, err
	}
	if c.Meta.Preprocessing, err = json.Marshal(pre); err != nil {
		return "", nil, err
	}
	path := filepath.Join(dir, name)
	if err := checkpoint.Save(path, c); err != nil {
		return "", nil, err
	}
	return path, map[int]batchInput{32: input(32), 1: input(1)}, nil
}

func timeTapeml(m *tapeml.Model, inputs map[int]batchInput, d time.Duration) (Timings, error) {
	ctx := context.Background()
	var t Timings
	for _, n := range []int{32, 1} {
		in := [][]float32{inputs[n].Data}
		var times []float64
		start := time.Now()
		for time.Since(start) < d || len(times) < 10 {
			t0 := time.Now()
			if _, err := m.Forward(ctx, in, n); err != nil {
				return t, err
			}
			times = append(times, float64(time.Since(t0))/1e6)
		}
		elapsed := time.Since(start).Seconds()
		if n == 32 {
			t.SamplesPerS = float64(32*len(times)) / elapsed
			continue
		}
		slices.Sort(times)
		t.P50ms, t.P99ms = quantile(times, 0.5), quantile(times, 0.99)
	}
	return t, nil
}

func quantile(sorted []float64, q float64) float64 {
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

func timeORT(model string, inputs map[int]batchInput, dir string, d time.Duration) (Timings, error) {
	script, err := filepath.Abs("tools/onnx/bench.mjs")
	if err != nil {
		return Timings{}, err
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(script), "node_modules", "onnxruntime-node")); err != nil {
		return Timings{}, fmt.Errorf("tools/onnx/node_modules/onnxruntime-node is missing: run `npm ci --ignore-scripts` in tools/onnx (from the repository root)")
	}
	spec := map[string]map[string]batchInput{}
	for n, in := range inputs {
		spec[fmt.Sprint(n)] = map[string]batchInput{in.Name: in}
	}
	b, err := json.Marshal(spec)
	if err != nil {
		return Timings{}, err
	}
	inPath := filepath.Join(dir, filepath.Base(model)+".inputs.json")
	if err := os.WriteFile(inPath, b, 0o644); err != nil {
		return Timings{}, err
	}
	cmd := exec.Command("node", script, model, inPath, fmt.Sprintf("--threads=%d", runtime.GOMAXPROCS(0)), fmt.Sprintf("--seconds=%g", d.Seconds()))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return Timings{}, err
	}
	var t Timings
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var r struct {
			Batch       int     `json:"batch"`
			SamplesPerS float64 `json:"samples_per_s"`
			P50         float64 `json:"p50_ms"`
			P99         float64 `json:"p99_ms"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return t, fmt.Errorf("bench.mjs printed %q: %w", line, err)
		}
		if r.Batch == 32 {
			t.SamplesPerS = r.SamplesPerS
		} else {
			t.P50ms, t.P99ms = r.P50, r.P99
		}
	}
	return t, nil
}
