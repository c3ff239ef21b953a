package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tapeml/tapeml/quantize"
)

func optimizeCmd(e env) *cobra.Command {
	c := &cobra.Command{
		Use:   "optimize --checkpoint DIR --int8 [--calibrate N] --out DIR [--force]",
		Short: "quantize a checkpoint to int8 for serving: tapeml optimize --checkpoint DIR --int8 --out DIR",
		Args:  noArgs,
	}
	fs := c.Flags()
	ckpt := fs.String("checkpoint", "", "float32 checkpoint folder, or a run folder (its best checkpoint)")
	int8 := fs.Bool("int8", false, "quantize to int8 (the one optimization so far; required)")
	calib := fs.Int("calibrate", quantize.DefaultCalibrate, "batches of 32 training examples that set the convolutions' static input scales")
	out := fs.String("out", "", "folder of the int8 checkpoint (written atomically)")
	force := fs.Bool("force", false, "replace an existing checkpoint at --out")
	rounds := fs.Int("rounds", 5, "interleaved timing rounds (0: skip the speed measurements)")
	c.RunE = func(*cobra.Command, []string) error {
		switch {
		case *ckpt == "":
			return usagef("--checkpoint is required")
		case !*int8:
			return usagef("--int8 is required (the only optimization tapeml optimize has)")
		case *out == "":
			return usagef("--out is required")
		case *calib < 0:
			return usagef("--calibrate must be at least 0, got %d", *calib)
		case *rounds < 0:
			return usagef("--rounds must be at least 0, got %d", *rounds)
		}
		stop := exitOnInterrupt(e, "optimize")
		defer stop()
		return optimize(e, *ckpt, *out, quantize.Options{Calibrate: *calib, Rounds: *rounds, Replace: *force})
	}
	return c
}

// optimize quantizes the checkpoint and prints what it gained and lost.
func optimize(e env, ckpt, out string, opt quantize.Options) error {
	rep, err := quantize.Int8(context.Background(), ckpt, out, opt)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s (%s) → %s: %d weights int8", rep.Source, rep.Kind, rep.Out, len(rep.Quantized))
	if rep.Calibration > 0 {
		fmt.Fprintf(e.stdout, ", %d calibration batches", rep.Calibration)
	}
	fmt.Fprintln(e.stdout)
	printLayers(e, rep)
	b, a := rep.Before, rep.After
	ratio := func(x, y float64) string {
		if y == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f×", x/y)
	}
	fmt.Fprintf(e.stdout, "%-28s %14s %14s %8s\n", "", "float32", "int8", "ratio")
	fmt.Fprintf(e.stdout, "%-28s %14d %14d %8s\n", "weights file (bytes)", b.WeightsBytes, a.WeightsBytes, ratio(float64(b.WeightsBytes), float64(a.WeightsBytes)))
	fmt.Fprintf(e.stdout, "%-28s %14d %14d %8s\n", "non-embedding weights (bytes)", b.NonEmbeddingBytes, a.NonEmbeddingBytes, ratio(float64(b.NonEmbeddingBytes), float64(a.NonEmbeddingBytes)))
	fmt.Fprintf(e.stdout, "%-28s %14.4f %14.4f %+8.4f\n", fmt.Sprintf("test %s (n=%d)", b.Metric, b.N), b.Value, a.Value, a.Value-b.Value)
	if rep.Rounds > 0 {
		same := ""
		if !int8Layers(rep) {
			same = "  (the same float32 kernels in both: the ratio is timing noise)"
		}
		fmt.Fprintf(e.stdout, "%-28s %14.1f %14.1f %8s%s\n", "batch-32 throughput (ex/s)", b.Throughput32, a.Throughput32, ratio(a.Throughput32, b.Throughput32), same)
		if b.CPU32 > 0 {
			fmt.Fprintf(e.stdout, "%-28s %14.0f %14.0f %8s%s\n", "batch-32 CPU time (µs)", float64(b.CPU32.Nanoseconds())/1e3, float64(a.CPU32.Nanoseconds())/1e3, ratio(float64(b.CPU32), float64(a.CPU32)), same)
		}
		fmt.Fprintf(e.stdout, "%-28s %14s %14s %8s\n", "batch-1 latency", b.Latency1, a.Latency1, ratio(float64(b.Latency1), float64(a.Latency1)))
	}
	fmt.Fprintf(e.stdout, "max |Δ output| on %d test inputs: %.3g\n", rep.ParityInputs, rep.MaxLogitDiff)
	if ag := rep.Agreement; ag.NotApplicable != "" {
		fmt.Fprintf(e.stdout, "top-1 agreement: n/a (%s)\n", ag.NotApplicable)
	} else {
		fmt.Fprintf(e.stdout, "top-1 agreement with float32 on %d test inputs: %d/%d (%.2f%%), max |Δ probability| %.3g\n", ag.Compared, ag.Same, ag.Compared, 100*ag.Fraction(), ag.MaxProbDiff)
	}
	for _, w := range rep.Warnings {
		fmt.Fprintln(e.stderr, "tapeml optimize: warning: "+w.Named(dashed))
	}
	return nil
}

// printLayers prints the per-layer choice of int8 or float32.
func printLayers(e env, rep *quantize.Report) {
	if len(rep.Layers) == 0 {
		fmt.Fprintf(e.stdout, "no layer of a %s model has an int8 kernel: it computes as its float32 model does (only its tables are stored in int8)\n", rep.Kind)
		return
	}
	if !rep.LayersTimed {
		fmt.Fprintf(e.stdout, "layers not timed: all %d in int8\n", len(rep.Layers))
		return
	}
	fmt.Fprintf(e.stdout, "per layer, the model's CPU time per batch of 32 with that layer in float32 and in int8 (the others in int8; each batch's fastest round); int8 kept when > %.1f%% faster in both the even and the odd rounds (the same model timed twice differed by %.1f%%):\n", 100*rep.Margin, 100*rep.Noise)
	fmt.Fprintf(e.stdout, "  %-44s %-6s %12s %12s %8s  %s\n", "layer", "role", "float32 µs", "int8 µs", "gain", "kept")
	for _, l := range rep.Layers {
		kept := "float32"
		if l.Kept {
			kept = "int8"
		}
		fmt.Fprintf(e.stdout, "  %-44s %-6s %12.0f %12.0f %+7.1f%%  %s\n", l.Name, l.Role, float64(l.Float32.Nanoseconds())/1e3, float64(l.Int8.Nanoseconds())/1e3, 100*l.Gain, kept)
	}
}

// int8Layers reports whether any layer of rep's model runs in int8.
func int8Layers(rep *quantize.Report) bool {
	for _, l := range rep.Layers {
		if l.Kept {
			return true
		}
	}
	return false
}
