package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"strings"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/privacy"
	"github.com/tapeml/tapeml/train"
)

func init() {
	commands = append(commands, command{"privacy", "epsilon of DP-SGD for a noise multiplier, sample rate and steps (or the noise for a target epsilon)", runPrivacy})
}

// runPrivacy is the accountant on the command line; the analysis is in
// package privacy.
func runPrivacy(e env, args []string) error {
	fs := newFlags(e, "privacy", "tapeml privacy (--noise σ | --target-epsilon ε) --sample-rate q (--steps T | --epochs E) [--delta δ] [--classic] [--json]")
	noise := fs.Float64("noise", 0, "noise multiplier σ (noise std over the clipping bound)")
	target := fs.Float64("target-epsilon", 0, "instead of --noise: find the smallest σ reaching this epsilon")
	q := fs.Float64("sample-rate", 0, "Poisson sampling rate q = batch/N")
	steps := fs.Int("steps", 0, "training steps")
	epochs := fs.Float64("epochs", 0, "instead of --steps: epochs, ⌊epochs/q⌋ steps")
	delta := fs.Float64("delta", 1e-5, "δ of the (ε, δ) guarantee")
	classic := fs.Bool("classic", false, "the classic RDP conversion ε = min RDP(α) + log(1/δ)/(α−1) instead of Opacus's (Balle et al. 2020)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case !set["sample-rate"]:
		return fmt.Errorf("missing --sample-rate q (batch/N)")
	case set["noise"] == set["target-epsilon"]:
		return fmt.Errorf("give exactly one of --noise σ and --target-epsilon ε")
	case set["steps"] == set["epochs"]:
		return fmt.Errorf("give exactly one of --steps T and --epochs E")
	case !(*q > 0 && *q <= 1):
		return fmt.Errorf("--sample-rate %v: want 0 < q ≤ 1", *q)
	case set["steps"] && *steps < 1:
		return fmt.Errorf("--steps %d: want at least 1", *steps)
	}
	if set["epochs"] {
		var err error
		if *steps, err = privacy.StepsForEpochs(*epochs, *q); err != nil {
			return fmt.Errorf("--epochs: %w", err)
		}
	}
	conv := privacy.Balle
	if *classic {
		conv = privacy.Classic
	}
	sigma := *noise
	if set["target-epsilon"] {
		var err error
		if sigma, err = privacy.NoiseForEpsilon(*target, *q, *steps, *delta, conv); err != nil {
			return err
		}
	}
	sp, err := privacy.Compute(*q, sigma, *steps, *delta, conv)
	if err != nil {
		return err
	}
	if *asJSON {
		obj := map[string]any{"noise_multiplier": sigma, "sample_rate": *q, "steps": *steps, "delta": *delta,
			"epsilon": finiteOrNull(sp.Epsilon), "order": finiteOrNull(sp.Order), "conversion": conv.String(), "accountant": "rdp"}
		b, err := json.Marshal(obj)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, string(b))
		return nil
	}
	fmt.Fprintf(e.stdout, "epsilon %.4f at delta %g (RDP, %s conversion, order %v): noise multiplier %.6g, sample rate %g, %d steps\n",
		sp.Epsilon, *delta, conv, sp.Order, sigma, *q, *steps)
	return nil
}

func finiteOrNull(v float64) any {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return nil
	}
	return v
}

// dpFlags are train's differential-privacy flags.
type dpFlags struct {
	on                                *bool
	maxGradNorm, noise, target, delta *float64
}

func addDPFlags(fs *flag.FlagSet) *dpFlags {
	return &dpFlags{
		on:          fs.Bool("dp", false, "differentially private training (DP-SGD with Poisson sampling at rate batch/N, RDP accounting)"),
		maxGradNorm: fs.Float64("max-grad-norm", 0, "--dp: per-example gradient clipping bound C"),
		noise:       fs.Float64("noise", 0, "--dp: noise multiplier σ (Gaussian noise of std σ·C on the summed gradients)"),
		target:      fs.Float64("target-epsilon", 0, "--dp: instead of --noise, the smallest σ that spends at most this epsilon over --epochs"),
		delta:       fs.Float64("delta", 1e-5, "--dp: δ of the reported (ε, δ); must be below 1/N"),
	}
}

var dpFlagNames = []string{"max-grad-norm", "noise", "target-epsilon", "delta"}

// config returns the DP configuration the flags ask for, nil without --dp.
// resuming says the run's own settings apply.
func (d *dpFlags) config(set map[string]bool, resuming bool) (*train.DPConfig, error) {
	var given []string
	for _, n := range dpFlagNames {
		if set[n] {
			given = append(given, "--"+n)
		}
	}
	if resuming && (set["dp"] || len(given) > 0) {
		return nil, fmt.Errorf("--resume continues with the run's own privacy settings: drop --dp %s", strings.Join(given, " "))
	}
	if !*d.on {
		if len(given) > 0 {
			return nil, fmt.Errorf("%s only apply with --dp", strings.Join(given, ", "))
		}
		return nil, nil
	}
	switch {
	case !set["max-grad-norm"]:
		return nil, fmt.Errorf("--dp needs --max-grad-norm C, the per-example clipping bound")
	case !(*d.maxGradNorm > 0) || math.IsInf(*d.maxGradNorm, 0):
		return nil, fmt.Errorf("--max-grad-norm %v: want a finite number > 0", *d.maxGradNorm)
	case !set["noise"] && !set["target-epsilon"]:
		return nil, fmt.Errorf("--dp needs --noise σ or --target-epsilon ε")
	case set["noise"] && set["target-epsilon"]:
		return nil, fmt.Errorf("--noise and --target-epsilon exclude each other: give one")
	case set["noise"] && (!(*d.noise >= 0) || math.IsInf(*d.noise, 0)):
		return nil, fmt.Errorf("--noise %v: want a finite number ≥ 0", *d.noise)
	case set["target-epsilon"] && (!(*d.target > 0) || math.IsInf(*d.target, 0)):
		return nil, fmt.Errorf("--target-epsilon %v: want a finite number > 0", *d.target)
	case !(*d.delta > 0 && *d.delta < 1):
		return nil, fmt.Errorf("--delta %v: want 0 < δ < 1/N", *d.delta)
	}
	c := &train.DPConfig{MaxGradNorm: *d.maxGradNorm, Noise: *d.noise, Delta: *d.delta}
	if set["target-epsilon"] {
		c.Noise, c.TargetEpsilon = 0, *d.target
	}
	return c, nil
}

// addPrivacy adds a DP checkpoint's epsilon, delta and settings to an eval
// JSON object.
func addPrivacy(obj map[string]any, c *checkpoint.Checkpoint) error {
	if len(c.Meta.Privacy) == 0 {
		return nil
	}
	var p struct {
		Epsilon *float64 `json:"epsilon"`
		Delta   float64  `json:"delta"`
	}
	if err := json.Unmarshal(c.Meta.Privacy, &p); err != nil {
		return fmt.Errorf("%s/%s: privacy: %w", c.Dir, checkpoint.MetaFile, err)
	}
	if p.Epsilon != nil {
		obj["epsilon"] = *p.Epsilon
	} else {
		obj["epsilon"] = nil
	}
	obj["delta"] = p.Delta
	obj["privacy"] = c.Meta.Privacy
	return nil
}

// imageDP is the convnet's DP configuration: BatchNorm mixes the examples
// of a batch, so --dp needs --norm group.
func imageDP(d *dpFlags, set map[string]bool, norm string, resuming bool) (*train.DPConfig, error) {
	c, err := d.config(set, resuming)
	if err != nil || c == nil {
		return c, err
	}
	if norm != "group" {
		return nil, fmt.Errorf("--dp: the convnet's BatchNorm mixes the examples of a batch, so an example's gradient is not its own and cannot be clipped: add --norm group (GroupNorm)")
	}
	return c, nil
}

// mfDP is the recommender's DP configuration: matrix factorization only.
func mfDP(d *dpFlags, fs *flag.FlagSet, algo string) (*train.DPConfig, error) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	c, err := d.config(set, false)
	if err == nil && c != nil && algo != "mf" {
		return nil, fmt.Errorf("--dp trains matrix factorization only (--algo mf), not --algo %s", algo)
	}
	return c, err
}
