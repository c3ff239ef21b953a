package bench

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tapeml/tapeml/graph"
)

// Throughput is one measured run.
type Throughput struct {
	Steps         int     `json:"steps"`
	Seconds       float64 `json:"seconds"`
	SamplesPerSec float64 `json:"samples_per_sec"`
}

// Reference runs an external engine (a PyTorch or ONNX Runtime script) on
// the same workload.
type Reference struct {
	// Engine names it in the report: "pytorch", "onnxruntime".
	Engine string
	// Command is the program and its arguments, given the thread count and
	// the number of timed steps. Its standard output must contain
	// "<number> samples/s".
	Command func(threads, steps int) []string
	// Steps is the number of timed steps (the scripts warm up first).
	Steps int
}

// Workload is one model trained (or run) by tapeml, with an optional
// reference to compare against.
type Workload struct {
	Name  string
	Batch int
	// Steps is the default number of timed steps.
	Steps int
	// Setup builds the model and data and returns a function running one
	// step (the first calls, made before timing, compile the machine) and
	// the step's floating-point operations, counted from its graph
	// (graph.Machine.FLOPs).
	Setup func(threads int) (step func(i int) error, flopsPerStep int64, err error)
	// Reference is nil when there is nothing to compare against.
	Reference *Reference
}

// Row is one workload's result.
type Row struct {
	Model     string      `json:"model"`
	Batch     int         `json:"batch"`
	Tapeml    Throughput  `json:"tapeml"`
	Engine    string      `json:"engine,omitempty"`
	Reference *Throughput `json:"reference,omitempty"`
	// Ratio is tapeml's samples/s over the reference's (0 without one).
	Ratio float64 `json:"ratio,omitempty"`
	// FLOPsPerSample is one example's product work in a step, from the
	// graph's shapes; the fractions are each side's GFLOP/s over the
	// machine's sgemm peak (Machine.Peak).
	FLOPsPerSample  float64 `json:"flops_per_sample,omitempty"`
	TapemlOfPeak    float64 `json:"tapeml_of_peak,omitempty"`
	ReferenceOfPeak float64 `json:"reference_of_peak,omitempty"`
	// Note says why the reference is missing, if it is.
	Note string `json:"note,omitempty"`
}

// Machine describes where the figures were measured.
type Machine struct {
	CPU       string   `json:"cpu"`
	Features  []string `json:"features"`
	SIMD      string   `json:"simd"`           // the kernel path tapeml used
	SIMDMax   string   `json:"simd_supported"` // the best this CPU and build allow
	Threads   int      `json:"threads"`
	GoVersion string   `json:"go"`
	OSArch    string   `json:"os_arch"`
	PyTorch   string   `json:"pytorch,omitempty"`
	// SgemmGFLOPs is tapeml's float32 product at 1024² on Threads, the
	// better of its measures before and after the workloads; Peak the
	// machine's sgemm peak: the better of it and the anchor's torch.mm.
	SgemmGFLOPs float64 `json:"sgemm_gflops"`
	Peak        float64 `json:"peak_gflops"`
	// FMAGFLOPs is the arithmetic limit on Threads (FMAPeak): the sgemm
	// peak is a fraction of it. 0 when the kernel level has no vector
	// multiply-add (pure Go).
	FMAGFLOPs float64 `json:"fma_gflops,omitempty"`
	Anchor    *Anchor `json:"anchor,omitempty"`
}

// Report is a whole run.
type Report struct {
	Machine   Machine `json:"machine"`
	Training  []Row   `json:"training"`
	Inference []Row   `json:"inference,omitempty"`
}

// Config selects what to run.
type Config struct {
	// Models limits the training workloads to these names (empty: all).
	Models []string
	// Steps overrides every workload's number of timed tapeml steps
	// (0: each workload's default); TorchSteps the reference's.
	Steps, TorchSteps int
	// Threads is the thread count of both sides (0: GOMAXPROCS). The
	// caller sets GOMAXPROCS to it.
	Threads int
	// Python runs the PyTorch scripts ("" disables them); Scripts is the
	// directory holding them (tools/pytorch of the repository).
	Python, Scripts string
	// Inference workloads run after training ones; see the package doc.
	Inference []Workload
	// Progress, if not nil, gets one line per measurement as it starts.
	Progress func(msg string)
}

// Run measures every selected workload and returns the report. A
// reference that fails leaves a note in its row instead of failing the run.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Threads <= 0 {
		cfg.Threads = runtime.GOMAXPROCS(0)
	}
	if cfg.Steps < 0 || cfg.TorchSteps < 0 {
		return nil, fmt.Errorf("bench: steps must not be negative (got %d, %d)", cfg.Steps, cfg.TorchSteps)
	}
	workloads, err := selectWorkloads(Training(cfg.Python, cfg.Scripts), cfg.Models)
	if err != nil {
		return nil, err
	}
	rep := &Report{Machine: describeMachine(cfg.Threads)}
	progress(cfg, "tapeml sgemm %d² on %d threads", peakSize, cfg.Threads)
	rep.Machine.SgemmGFLOPs = sgemmPeak(cfg.Threads, peakSize, 10)
	rep.Machine.Peak = rep.Machine.SgemmGFLOPs
	rep.Machine.FMAGFLOPs = FMAPeak(cfg.Threads)
	torchNote := ""
	var env []string
	if cfg.Python != "" {
		progress(cfg, "the anchor's configuration (tools/pytorch/anchor.py)")
		a, err := probeAnchor(ctx, cfg.Python, cfg.Scripts, cfg.Threads, slices.Contains(rep.Machine.Features, "avx512f"))
		switch {
		case err != nil:
			torchNote = err.Error()
		case a.ReferenceBLAS():
			rep.Machine.Anchor, rep.Machine.PyTorch = a, a.Torch
			torchNote = fmt.Sprintf("no ratio: PyTorch (BLAS_INFO=%s) runs the reference BLAS %s, many times slower than an optimized one; install OpenBLAS (apt-get install libopenblas0) and run again",
				a.BLASInfo, cmp.Or(a.SgemmFrom, strings.Join(a.Libraries, ", ")))
		default:
			rep.Machine.Anchor, rep.Machine.PyTorch, env = a, a.Torch, a.env
			rep.Machine.Peak = max(rep.Machine.Peak, a.MMGFLOPs)
		}
	} else {
		torchNote = "PyTorch not run (no python)"
	}
	for _, w := range workloads {
		row, err := measure(ctx, cfg, w, torchNote, env)
		if err != nil {
			return nil, err
		}
		rep.Training = append(rep.Training, row)
	}
	for _, w := range cfg.Inference {
		row, err := measure(ctx, cfg, w, "", nil)
		if err != nil {
			return nil, err
		}
		rep.Inference = append(rep.Inference, row)
	}
	// The peak again after the workloads, the better of the two kept: a
	// peak read low (a burst of load from elsewhere, a cold start) would
	// flatter every fraction.
	progress(cfg, "tapeml sgemm %d² on %d threads, again", peakSize, cfg.Threads)
	again := sgemmPeak(cfg.Threads, peakSize, 10)
	rep.Machine.SgemmGFLOPs = max(rep.Machine.SgemmGFLOPs, again)
	rep.Machine.Peak = max(rep.Machine.Peak, again)
	rep.Machine.FMAGFLOPs = max(rep.Machine.FMAGFLOPs, FMAPeak(cfg.Threads))
	for _, rows := range [][]Row{rep.Training, rep.Inference} {
		for i := range rows {
			rows[i].ofPeak(rep.Machine.Peak)
		}
	}
	return rep, nil
}

// peakSize is the square product the sgemm peak is measured on, as the
// anchor's torch.mm is.
const peakSize = 1024

// ofPeak sets the row's fractions of the peak (GFLOP/s).
func (r *Row) ofPeak(peak float64) {
	if r.FLOPsPerSample <= 0 || peak <= 0 {
		return
	}
	r.TapemlOfPeak = r.Tapeml.SamplesPerSec * r.FLOPsPerSample / 1e9 / peak
	if r.Reference != nil {
		r.ReferenceOfPeak = r.Reference.SamplesPerSec * r.FLOPsPerSample / 1e9 / peak
	}
}

func selectWorkloads(all []Workload, names []string) ([]Workload, error) {
	if len(names) == 0 {
		return all, nil
	}
	var out []Workload
	for _, n := range names {
		found := false
		for _, w := range all {
			if w.Name == n {
				out, found = append(out, w), true
			}
		}
		if !found {
			var known []string
			for _, w := range all {
				known = append(known, w.Name)
			}
			return nil, fmt.Errorf("bench: unknown model %q (want some of %s)", n, strings.Join(known, ", "))
		}
	}
	return out, nil
}

// measure runs w's tapeml side, then its reference (unless refNote says
// why not).
func measure(ctx context.Context, cfg Config, w Workload, refNote string, env []string) (Row, error) {
	row := Row{Model: w.Name, Batch: w.Batch}
	steps := w.Steps
	if cfg.Steps > 0 {
		steps = cfg.Steps
	}
	progress(cfg, "tapeml %s: %d steps at batch %d", w.Name, steps, w.Batch)
	step, flops, err := w.Setup(cfg.Threads)
	if err != nil {
		return row, fmt.Errorf("bench: %s: %w", w.Name, err)
	}
	row.FLOPsPerSample = float64(flops) / float64(w.Batch)
	for i := 0; i < 2; i++ { // compile the machine and warm the caches
		if err := step(i); err != nil {
			return row, fmt.Errorf("bench: %s warm-up step %d: %w", w.Name, i, err)
		}
	}
	start := time.Now()
	for i := 0; i < steps; i++ {
		if err := ctx.Err(); err != nil {
			return row, err
		}
		if err := step(2 + i); err != nil {
			return row, fmt.Errorf("bench: %s step %d: %w", w.Name, i, err)
		}
	}
	row.Tapeml = throughput(steps, w.Batch, time.Since(start).Seconds())
	ref := w.Reference
	switch {
	case ref == nil:
		row.Note = "no reference"
	case refNote != "" && ref.Engine == "pytorch":
		row.Engine, row.Note = ref.Engine, refNote
	default:
		row.Engine = ref.Engine
		rs := ref.Steps
		if cfg.TorchSteps > 0 {
			rs = cfg.TorchSteps
		}
		progress(cfg, "%s %s: %d steps", ref.Engine, w.Name, rs)
		sps, secs, err := runReference(ctx, ref.Command(cfg.Threads, rs), env)
		if err != nil {
			row.Note = err.Error()
			break
		}
		row.Reference = &Throughput{Steps: rs, Seconds: secs, SamplesPerSec: sps}
		row.Ratio = row.Tapeml.SamplesPerSec / sps
	}
	return row, nil
}

func throughput(steps, batch int, secs float64) Throughput {
	t := Throughput{Steps: steps, Seconds: secs}
	if secs > 0 {
		t.SamplesPerSec = float64(steps*batch) / secs
	}
	return t
}

func progress(cfg Config, format string, args ...any) {
	if cfg.Progress != nil {
		cfg.Progress(fmt.Sprintf(format, args...))
	}
}

// runScript runs argv (a program and its script) in env and returns its
// standard output; a failure is one line: the script, the error and the
// last line of its standard error, where a Python traceback puts the
// exception.
func runScript(ctx context.Context, argv []string, env []string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		return nil, fmt.Errorf("%s failed: %v: %s", filepath.Base(argv[1]), err, msg)
	}
	return out, nil
}

var samplesRE = regexp.MustCompile(`([0-9]+(?:\.[0-9]+)?) samples/s`)

// runReference runs an external benchmark and reads its samples/s.
// env, if not nil, is its environment (the anchor's chosen one).
func runReference(ctx context.Context, argv []string, env []string) (samplesPerSec, seconds float64, err error) {
	start := time.Now()
	out, err := runScript(ctx, argv, env)
	if err != nil {
		return 0, 0, err
	}
	m := samplesRE.FindSubmatch(out)
	if m == nil {
		return 0, 0, fmt.Errorf("%s printed no \"samples/s\": %q", filepath.Base(argv[1]), strings.TrimSpace(string(out)))
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil || v <= 0 {
		return 0, 0, fmt.Errorf("%s: bad samples/s %q", filepath.Base(argv[1]), m[1])
	}
	return v, time.Since(start).Seconds(), nil
}

// describeMachine names the CPU and its vector features (from
// /proc/cpuinfo where there is one).
func describeMachine(threads int) (m Machine) {
	active, supported := graph.SIMD()
	m = Machine{CPU: "unknown", SIMD: active, SIMDMax: supported, Threads: threads,
		GoVersion: runtime.Version(), OSArch: runtime.GOOS + "/" + runtime.GOARCH}
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return m
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	family, model := "", ""
	defer func() {
		if family != "" && model != "" {
			m.CPU += fmt.Sprintf(" (family %s, model %s)", family, model)
		}
	}()
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		switch key {
		case "model name":
			m.CPU = val
		case "cpu family":
			family = val
		case "model":
			model = val
		case "flags":
			for _, fl := range strings.Fields(val) {
				if fl == "avx" || fl == "avx2" || fl == "fma" || strings.HasPrefix(fl, "avx512") || strings.HasPrefix(fl, "amx") || strings.HasPrefix(fl, "avx_vnni") {
					m.Features = append(m.Features, fl)
				}
			}
		}
		if m.CPU != "unknown" && m.Features != nil {
			break
		}
	}
	return m
}
