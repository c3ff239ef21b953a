package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/tapeml/tapeml/tools/bench"
)

// runBench is `tapeml bench`: the library's bench.Run with flags.
func runBench(e env, args []string) error {
	fs := newFlags(e, "bench", "tapeml bench [--models textcnn,convnet,lstm,mf] [--steps N] [--torch-steps N] [--threads N] [--json]")
	models := fs.String("models", "", "comma-separated workloads to run (default: all of textcnn, convnet, lstm, mf)")
	steps := fs.Int("steps", 0, "timed tapeml steps per model (default: each model's own)")
	torchSteps := fs.Int("torch-steps", 0, "timed PyTorch steps per model (default: each script's count in the bench)")
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "threads for tapeml (GOMAXPROCS) and PyTorch")
	python := fs.String("python", "/usr/bin/python3", "Python with PyTorch for the reference scripts (empty: skip PyTorch)")
	scripts := fs.String("scripts", filepath.Join("tools", "pytorch"), "directory of the PyTorch bench scripts")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *threads < 1 {
		return fmt.Errorf("--threads must be at least 1, got %d", *threads)
	}
	runtime.GOMAXPROCS(*threads)
	cfg := bench.Config{Steps: *steps, TorchSteps: *torchSteps, Threads: *threads, Python: *python, Scripts: *scripts,
		Progress: func(msg string) { fmt.Fprintln(e.stderr, "bench:", msg) }}
	if *models != "" {
		cfg.Models = strings.Split(*models, ",")
	}
	if cfg.Python != "" {
		if _, err := os.Stat(filepath.Join(cfg.Scripts, "models.py")); err != nil {
			fmt.Fprintf(e.stderr, "bench: no PyTorch scripts in %s (run from the repository root or set --scripts): PyTorch skipped\n", cfg.Scripts)
			cfg.Python = ""
		}
	}
	rep, err := bench.Run(context.Background(), cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		return rep.WriteJSON(e.stdout)
	}
	return rep.WriteText(e.stdout)
}
