package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tapeml/tapeml/tools/bench"
	"github.com/tapeml/tapeml/train"
)

// benchCmd is `tapeml bench`: tools/bench's Run with flags.
func benchCmd(e env) *cobra.Command {
	c := &cobra.Command{
		Use:   "bench [--models textcnn,convnet,lstm,transformer,mf] [--steps N] [--torch-steps N] [--threads N] [--json]",
		Short: "measure training throughput against PyTorch on this machine",
		Args:  noArgs,
	}
	fs := c.Flags()
	models := fs.String("models", "", "comma-separated workloads to run (default: all of textcnn, convnet, lstm, transformer, mf)")
	steps := fs.Int("steps", 0, "timed tapeml steps per model (default: each model's own)")
	torchSteps := fs.Int("torch-steps", 0, "timed PyTorch steps per model (default: each script's count in the bench)")
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "threads for tapeml (GOMAXPROCS) and PyTorch")
	python := fs.String("python", "/usr/bin/python3", "Python with PyTorch for the reference scripts (empty: skip PyTorch)")
	scripts := fs.String("scripts", filepath.Join("tools", "pytorch"), "directory of the PyTorch bench scripts")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	c.RunE = func(*cobra.Command, []string) error {
		return runBench(e, *models, *steps, *torchSteps, *threads, *python, *scripts, *asJSON)
	}
	return c
}

func runBench(e env, models string, steps, torchSteps, threads int, python, scripts string, asJSON bool) error {
	if threads < 1 || threads > train.MaxThreads {
		return usagef("--threads must be between 1 and %d, got %d", train.MaxThreads, threads)
	}
	runtime.GOMAXPROCS(threads)
	cfg := bench.Config{Steps: steps, TorchSteps: torchSteps, Threads: threads, Python: python, Scripts: scripts,
		Progress: func(msg string) { fmt.Fprintln(e.stderr, "bench:", msg) }}
	if models != "" {
		cfg.Models = strings.Split(models, ",")
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
	if asJSON {
		return rep.WriteJSON(e.stdout)
	}
	return rep.WriteText(e.stdout)
}
