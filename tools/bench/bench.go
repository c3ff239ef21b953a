package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
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
	// step (the first calls, made before timing, compile the machine).
	Setup func(threads int) (step func(i int) error, err error)
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
	torchNote := ""
	if cfg.Python != "" {
		v, err := torchVersion(ctx, cfg.Python)
		if err != nil {
			torchNote = err.Error()
		}
		rep.Machine.PyTorch = v
	} else {
		torchNote = "PyTorch not run (no python)"
	}
	for _, w := range workloads {
		row, err := measure(ctx, cfg, w, torchNote)
		if err != nil {
			return nil, err
		}
		rep.Training = append(rep.Training, row)
	}
	for _, w := range cfg.Inference {
		row, err := measure(ctx, cfg, w, "")
		if err != nil {
			return nil, err
		}
		rep.Inference = append(rep.Inference, row)
	}
	return rep, nil
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
func measure(ctx context.Context, cfg Config, w Workload, refNote string) (Row, error) {
	row := Row{Model: w.Name, Batch: w.Batch}
	steps := w.Steps
	if cfg.Steps > 0 {
		steps = cfg.Steps
	}
	progress(cfg, "tapeml %s: %d steps at batch %d", w.Name, steps, w.Batch)
	step, err := w.Setup(cfg.Threads)
	if err != nil {
		return row, fmt.Errorf("bench: %s: %w", w.Name, err)
	}
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
		sps, secs, err := runReference(ctx, ref.Command(cfg.Threads, rs))
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

var samplesRE = regexp.MustCompile(`([0-9]+(?:\.[0-9]+)?) samples/s`)

// runReference runs an external benchmark and reads its samples/s.
func runReference(ctx context.Context, argv []string) (samplesPerSec, seconds float64, err error) {
	start := time.Now()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:] // a Python traceback ends with the exception
		}
		return 0, 0, fmt.Errorf("%s failed: %v: %s", filepath.Base(argv[1]), err, msg)
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

// torchVersion asks python for torch.__version__.
func torchVersion(ctx context.Context, python string) (string, error) {
	out, err := exec.CommandContext(ctx, python, "-c", "import torch; print(torch.__version__)").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("PyTorch not run: %s cannot import torch", python)
		}
		return "", fmt.Errorf("PyTorch not run: %v", err)
	}
	return strings.TrimSpace(string(out)), nil
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
