package main

import (
	"fmt"
	"math"

	"github.com/spf13/cobra"

	"github.com/tapeml/tapeml/privacy"
)

// privacyCmd is the accountant on the command line; the analysis is in
// package privacy.
func privacyCmd(e env) *cobra.Command {
	c := &cobra.Command{
		Use:   "privacy (--noise σ | --target-epsilon ε) --sample-rate q (--steps T | --epochs E) [--delta δ] [--classic] [--json]",
		Short: "epsilon of DP-SGD for a noise multiplier, sample rate and steps (or the noise for a target epsilon)",
		Args:  noArgs,
	}
	fs := c.Flags()
	noise := fs.Float64("noise", 0, "noise multiplier σ (noise std over the clipping bound)")
	target := fs.Float64("target-epsilon", 0, "instead of --noise: find the smallest σ reaching this epsilon")
	q := fs.Float64("sample-rate", 0, "Poisson sampling rate q = batch/N")
	steps := fs.Int("steps", 0, "training steps")
	epochs := fs.Float64("epochs", 0, "instead of --steps: epochs, ⌊epochs/q⌋ steps")
	delta := fs.Float64("delta", 1e-5, "δ of the (ε, δ) guarantee")
	classic := fs.Bool("classic", false, "the classic RDP conversion ε = min RDP(α) + log(1/δ)/(α−1) instead of Opacus's (Balle et al. 2020)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	c.RunE = func(*cobra.Command, []string) error {
		set := func(name string) bool { return changed(fs, name) }
		switch {
		case !set("sample-rate"):
			return usagef("missing --sample-rate q (batch/N)")
		case set("noise") == set("target-epsilon"):
			return usagef("give exactly one of --noise σ and --target-epsilon ε")
		case set("steps") == set("epochs"):
			return usagef("give exactly one of --steps T and --epochs E")
		case !(*q > 0 && *q <= 1):
			return usagef("--sample-rate %v: want 0 < q ≤ 1", *q)
		case *steps < 0:
			return usagef("--steps %d: want at least 0", *steps)
		case !(*epochs >= 0) || math.IsInf(*epochs, 0):
			return usagef("--epochs %v: want a finite number ≥ 0", *epochs)
		case !(*delta > 0 && *delta < 1):
			return usagef("--delta %v: want 0 < δ < 1 (δ is a probability of failure; below 1/N to mean something)", *delta)
		case set("noise") && (!(*noise >= 0) || math.IsInf(*noise, 0)):
			return usagef("--noise %v: want a finite number ≥ 0", *noise)
		case set("target-epsilon") && (!(*target > 0) || math.IsInf(*target, 0)):
			return usagef("--target-epsilon %v: want a finite number > 0", *target)
		}
		n := *steps
		if set("epochs") {
			var err error
			if n, err = privacy.StepsForEpochs(*epochs, *q); err != nil {
				return fmt.Errorf("--epochs: %w", err)
			}
		}
		conv := privacy.Balle
		if *classic {
			conv = privacy.Classic
		}
		sigma := *noise
		if set("target-epsilon") {
			var err error
			if sigma, err = privacy.NoiseForEpsilon(*target, *q, n, *delta, conv); err != nil {
				return err
			}
		}
		sp, err := privacy.Compute(*q, sigma, n, *delta, conv)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e, map[string]any{"noise_multiplier": sigma, "sample_rate": *q, "steps": n, "delta": *delta,
				"epsilon": finiteOrNull(sp.Epsilon), "order": finiteOrNull(sp.Order), "conversion": conv.String(), "accountant": "rdp"})
		}
		if n == 0 {
			fmt.Fprintf(e.stdout, "epsilon 0 at delta %g: 0 steps release nothing (noise multiplier %.6g, sample rate %g)\n", *delta, sigma, *q)
			return nil
		}
		fmt.Fprintf(e.stdout, "epsilon %.4f at delta %g (RDP, %s conversion, order %v): noise multiplier %.6g, sample rate %g, %d steps\n",
			sp.Epsilon, *delta, conv, sp.Order, sigma, *q, n)
		return nil
	}
	return c
}

func finiteOrNull(v float64) any {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return nil
	}
	return v
}
