// Command inferbench measures tapeml's inference speed against ONNX
// Runtime's on the same exported model, with the same thread count, in one
// run, and prints the ratios.
//
//	go run ./tools/inferbench [-models textcnn,lstm,convnet,transformer] [-rounds 5] [-seconds 1] [-warmup 0.25] [-json]
//
// The two sides take turns: each round times tapeml and ONNX Runtime,
// for -seconds each after -warmup seconds of untimed runs, the two going
// first in alternate rounds, and the figures are the medians over the
// rounds, so that both meet the same load on a shared machine.
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
//
// A second table sets both sides' batch-32 throughput, as effective
// GFLOP/s (the serving graph's product FLOPs per example, counted from its
// shapes), against tapeml's sgemm peak at 1024² and against the FMA peak
// (the arithmetic limit: multiply-adds on registers only), both measured in
// every round.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/export"
	"github.com/tapeml/tapeml/internal/core"
	"github.com/tapeml/tapeml/tapemltest"
	"github.com/tapeml/tapeml/tools/bench"
)

// Result is one model's figures.
type Result struct {
	Model   string  `json:"model"`
	Threads int     `json:"threads"`
	Tapeml  Timings `json:"tapeml"`
	ORT     Timings `json:"onnxruntime"`
	// MFLOPs is the serving graph's product work per example, counted
	// from its shapes (graph.Machine.FLOPs of the batch-1 machine), and
	// Peak the machine's sgemm peak measured in the same run (GFLOP/s):
	// a side's effective GFLOP/s is its batch-32 samples/s × MFLOPs / 1000.
	MFLOPs float64 `json:"mflop_per_sample"`
	Peak   float64 `json:"sgemm_peak_gflops"`
	// FMAPeak is the arithmetic limit measured in the same run (GFLOP/s,
	// bench.FMAPeak; 0 at the pure-Go level).
	FMAPeak float64 `json:"fma_peak_gflops,omitempty"`
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
	models := flag.String("models", "textcnn,lstm,convnet,transformer", "models to measure")
	seconds := flag.Float64("seconds", 1, "time spent on each measurement")
	warmup := flag.Float64("warmup", 0.25, "untimed runs before each measurement, in seconds")
	roundsFlag := flag.Int("rounds", 5, "alternating rounds; the figures are their medians")
	asJSON := flag.Bool("json", false, "print JSON lines instead of a table")
	noORT := flag.Bool("tapeml-only", false, "skip ONNX Runtime")
	profile := flag.String("cpuprofile", "", "write a CPU profile of tapeml's runs to this file")
	flag.Parse()
	skipORT, rounds = *noORT, max(1, *roundsFlag)
	warm = time.Duration(max(0, *warmup) * float64(time.Second))
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

var (
	skipORT bool
	rounds  int
	warm    time.Duration // untimed runs before each measurement
	peak    float64       // the sgemm peak so far, GFLOP/s
	fmaPeak float64       // the FMA peak so far, GFLOP/s
)

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
	fmt.Printf("\nEffective GFLOP/s at batch 32 against the sgemm peak (1024², %d threads, best over the rounds): %.1f GFLOP/s,\n", runtime.GOMAXPROCS(0), peak)
	fmt.Printf("and against the FMA peak (multiply-adds on registers only, the arithmetic limit, best over the rounds): %.1f GFLOP/s\n", fmaPeak)
	w = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "model\tMFLOP/sample\ttapeml GFLOP/s\tof sgemm\tof FMA\tORT GFLOP/s\tof sgemm\tof FMA")
	for _, r := range rs {
		tg, og := r.Tapeml.SamplesPerS*r.MFLOPs/1000, r.ORT.SamplesPerS*r.MFLOPs/1000
		fmt.Fprintf(w, "%s\t%.1f\t%.0f\t%.0f%%\t%s\t%.0f\t%.0f%%\t%s\n", r.Model, r.MFLOPs, tg, 100*tg/r.Peak, percentOf(tg, r.FMAPeak), og, 100*og/r.Peak, percentOf(og, r.FMAPeak))
	}
	w.Flush()
}

// percentOf is part as a percentage of whole, or "—" without a whole.
func percentOf(part, whole float64) string {
	if whole <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", 100*part/whole)
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

func measure(name, dir string, d time.Duration) (Result, error) {
	path, inputs, err := tapemltest.Save(name, dir)
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
	if r.MFLOPs, err = mflopsPerSample(m); err != nil {
		return r, err
	}
	var ort *ortProcess
	if !skipORT {
		if ort, err = startORT(onnxPath, inputs, dir); err != nil {
			fmt.Fprintf(os.Stderr, "inferbench: %s: ONNX Runtime not measured: %v\n", name, err)
		} else {
			defer ort.close()
		}
	}
	var tap, onx []Timings
	for round := range rounds {
		// The peak too takes its turn, so that it meets the same load;
		// the best over the rounds (and models) so far is reported.
		peak = max(peak, bench.SgemmPeak(runtime.GOMAXPROCS(0)))
		fmaPeak = max(fmaPeak, bench.FMAPeak(runtime.GOMAXPROCS(0)))
		ours := func() error {
			t, err := timeTapeml(m, inputs, d)
			tap = append(tap, t)
			return err
		}
		theirs := func() error {
			if ort == nil {
				return nil
			}
			t, err := ort.time(d)
			onx = append(onx, t)
			return err
		}
		// The sides take turns at going first, so that neither always
		// follows the peak's products or the other side.
		first, second := ours, theirs
		if round%2 == 1 {
			first, second = theirs, ours
		}
		if err := first(); err != nil {
			return r, err
		}
		if err := second(); err != nil {
			return r, err
		}
	}
	r.Tapeml, r.Peak, r.FMAPeak = median(tap), peak, fmaPeak
	if len(onx) > 0 {
		r.ORT = median(onx)
		r.Ratio = r.Tapeml.SamplesPerS / r.ORT.SamplesPerS
	}
	return r, nil
}

// mflopsPerSample is the product work of one example in m's serving
// graph, counted by its batch-1 machine.
func mflopsPerSample(m *tapeml.Model) (float64, error) {
	r := core.Unwrap(m).Run
	pool := r.Pool(0)
	mach, err := pool.Get(context.Background())
	if err != nil {
		return 0, err
	}
	defer pool.Put(mach)
	return float64(mach.M.FLOPs()) / float64(r.Buckets()[0]) / 1e6, nil
}

// median takes each figure's median over the rounds.
func median(ts []Timings) Timings {
	pick := func(f func(Timings) float64) float64 {
		v := make([]float64, len(ts))
		for i, t := range ts {
			v[i] = f(t)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	return Timings{
		SamplesPerS: pick(func(t Timings) float64 { return t.SamplesPerS }),
		P50ms:       pick(func(t Timings) float64 { return t.P50ms }),
		P99ms:       pick(func(t Timings) float64 { return t.P99ms }),
	}
}

func timeTapeml(m *tapeml.Model, inputs map[int]tapemltest.Batch, d time.Duration) (Timings, error) {
	ctx := context.Background()
	var t Timings
	for _, n := range []int{32, 1} {
		in := [][]float32{inputs[n].Data}
		for w0 := time.Now(); time.Since(w0) < warm; {
			if _, err := m.Forward(ctx, in, n); err != nil {
				return t, err
			}
		}
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

// ortProcess is node running tools/onnx/bench.mjs --stdin on one model.
type ortProcess struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func startORT(model string, inputs map[int]tapemltest.Batch, dir string) (*ortProcess, error) {
	script, err := filepath.Abs("tools/onnx/bench.mjs")
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(script), "node_modules", "onnxruntime-node")); err != nil {
		return nil, fmt.Errorf("tools/onnx/node_modules/onnxruntime-node is missing: run `npm ci --ignore-scripts` in tools/onnx (from the repository root)")
	}
	spec := map[string]map[string]tapemltest.Batch{}
	for n, in := range inputs {
		spec[fmt.Sprint(n)] = map[string]tapemltest.Batch{in.Name: in}
	}
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	inPath := filepath.Join(dir, filepath.Base(model)+".inputs.json")
	if err := os.WriteFile(inPath, b, 0o644); err != nil {
		return nil, err
	}
	p := &ortProcess{cmd: exec.Command("node", script, model, inPath, fmt.Sprintf("--threads=%d", runtime.GOMAXPROCS(0)), "--stdin")}
	p.cmd.Stderr = os.Stderr
	if p.in, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p.out = bufio.NewScanner(stdout)
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	if !p.out.Scan() || !strings.Contains(p.out.Text(), "ready") {
		p.close()
		return nil, fmt.Errorf("bench.mjs did not start: %q", p.out.Text())
	}
	return p, nil
}

// time measures batch 32 and batch 1 for d each.
func (p *ortProcess) time(d time.Duration) (Timings, error) {
	var t Timings
	for _, n := range []int{32, 1} {
		if _, err := fmt.Fprintf(p.in, "%d %g %g\n", n, d.Seconds(), warm.Seconds()); err != nil {
			return t, err
		}
		if !p.out.Scan() {
			return t, fmt.Errorf("bench.mjs stopped: %v", p.out.Err())
		}
		var r struct {
			SamplesPerS float64 `json:"samples_per_s"`
			P50         float64 `json:"p50_ms"`
			P99         float64 `json:"p99_ms"`
		}
		if err := json.Unmarshal(p.out.Bytes(), &r); err != nil {
			return t, fmt.Errorf("bench.mjs printed %q: %w", p.out.Text(), err)
		}
		if n == 32 {
			t.SamplesPerS = r.SamplesPerS
		} else {
			t.P50ms, t.P99ms = r.P50, r.P99
		}
	}
	return t, nil
}

func (p *ortProcess) close() {
	p.in.Close()
	p.cmd.Wait()
}
