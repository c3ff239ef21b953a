package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/train"
	"github.com/tapeml/tapeml/train/optim"
)

// flagAdder is a kind's configuration or a family's data options that
// binds its fields to flags.
type flagAdder interface{ AddFlags(fs *pflag.FlagSet) }

// trainCmd is `tapeml train MODEL`: a subcommand per registered kind
// whose family trains.
func trainCmd(e env) *cobra.Command {
	c := &cobra.Command{
		Use:   "train MODEL [flags]",
		Short: "train a model: tapeml train MODEL [flags]",
		Long:  fmt.Sprintf("train a model; models: %s. 'tapeml train MODEL --help' lists the flags.", strings.Join(kindNames(), ", ")),
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("missing model: tapeml train MODEL [flags] (models: %s)", strings.Join(kindNames(), ", "))
			}
			msg := fmt.Sprintf("unknown model %q (known: %s)", args[0], strings.Join(kindNames(), ", "))
			return usagef("%s", msg)
		},
	}
	for _, name := range kinds.Names() {
		k, err := kinds.Lookup(name)
		if err != nil {
			continue
		}
		if sub := trainKindCmd(e, k); sub != nil {
			c.AddCommand(sub)
		}
	}
	return c
}

// kindNames lists the kinds that train.
func kindNames() []string {
	var names []string
	for _, name := range kinds.Names() {
		if k, err := kinds.Lookup(name); err == nil {
			if _, ok := k.Family.(train.Family); ok {
				names = append(names, name)
			}
		}
	}
	return names
}

func kindCommand(root *cobra.Command, name string) bool {
	c, _, err := root.Find([]string{"train", name})
	return err == nil && c.Name() == name
}

// trainKindCmd is `tapeml train KIND`: the kind's configuration flags
// (its AddFlags), its family's data flags, and the run's training and
// privacy flags, parsed into a train.RunSpec for train.Run.
func trainKindCmd(e env, k *kinds.Kind) *cobra.Command {
	spec, err := train.NewSpec(k)
	if err != nil {
		return nil
	}
	settings := k.Family.(train.Family).Settings()
	c := &cobra.Command{
		Use:   strings.Join(strings.Fields(k.Name+" "+settings.Synopsis+" [flags]"), " "),
		Short: k.Summary,
		Args:  noArgs,
	}
	fs := c.Flags()
	config := pflag.NewFlagSet("config", pflag.ContinueOnError)
	if a, ok := spec.Config.(flagAdder); ok {
		a.AddFlags(config)
	}
	fs.AddFlagSet(config)
	if a, ok := spec.Data.(flagAdder); ok {
		a.AddFlags(fs)
	}
	var dp train.DPConfig
	dpOn := addRunFlags(fs, spec, &dp, settings)
	c.RunE = func(*cobra.Command, []string) error {
		fs.Visit(func(f *pflag.Flag) {
			if config.Lookup(f.Name) != nil {
				spec.ConfigSet = append(spec.ConfigSet, keyOf(f.Name))
			} else {
				spec.Set[keyOf(f.Name)] = true
			}
		})
		if *dpOn {
			spec.DP = &dp
			if dp.InsecureSeededNoise {
				fmt.Fprintln(e.stderr, "tapeml train: warning: --dp-insecure-seeded-noise: the sampling and noise are a function of --seed, which every checkpoint records; whoever holds one can regenerate the noise, and the reported (ε, δ) does not hold against them")
			}
		}
		spec.Progress = e.stdout
		ctx, stop := trainContext(e)
		defer stop()
		_, err := train.Run(ctx, *spec)
		return err
	}
	return c
}

// addRunFlags declares the training, run and privacy flags the family's
// runs take, worded as the family asks; it returns --dp.
func addRunFlags(fs *pflag.FlagSet, s *train.RunSpec, dp *train.DPConfig, set train.Settings) *bool {
	help := func(key train.Field, usage string) string {
		if h, ok := set.Help[key]; ok {
			return h
		}
		return usage
	}
	tc := &s.Training
	fs.IntVar(&tc.Epochs, "epochs", tc.Epochs, help("epochs", "passes over the training set (with --resume: the total to reach)"))
	fs.IntVar(&tc.Batch, "batch", tc.Batch, help("batch", "examples per step"))
	fs.Float64Var(&tc.LR, "lr", tc.LR, help("lr", "learning rate"))
	fs.Uint64Var(&tc.Seed, "seed", tc.Seed, help("seed", "seed for initialization, the data split, shuffling and dropout"))
	if set.Tuning {
		fs.StringVar(&tc.Optimizer.Name, "optimizer", tc.Optimizer.Name, "sgd, adam, adamw or rmsprop")
		fs.Float64Var(&tc.Optimizer.Momentum, "momentum", tc.Optimizer.Momentum, "SGD/RMSProp momentum")
		fs.Float64Var(&tc.Optimizer.WeightDecay, "weight-decay", tc.Optimizer.WeightDecay, "L2 weight decay (decoupled for adamw; 0 means adamw's default 0.01)")
		fs.Float64Var(&tc.Optimizer.L1, "l1", tc.Optimizer.L1, "L1 penalty")
		fs.Float64Var(&tc.Optimizer.ClipNorm, "clip-norm", tc.Optimizer.ClipNorm, "clip the global gradient norm (0 = off; under --dp the per-example bound is --max-grad-norm)")
		fs.StringVar(&tc.Schedule.Name, "schedule", tc.Schedule.Name, "learning-rate schedule: constant, step, exponential, cosine or linear (warm-up, then decay over all --epochs) or plateau")
		fs.Var(warmupFlag{&tc.Schedule}, "warmup", "cosine/linear: warm-up steps (replaces a kind's default warm-up)")
		fs.Float64Var(&tc.Schedule.MinLR, "min-lr", tc.Schedule.MinLR, "cosine: final learning rate")
		fs.Float64Var(&tc.Schedule.Gamma, "gamma", tc.Schedule.Gamma, "step/exponential: decay factor")
		fs.IntVar(&tc.Schedule.EveryEpochs, "decay-every", tc.Schedule.EveryEpochs, "step/exponential: epochs between decays")
		fs.StringVar(&tc.Monitor, "monitor", tc.Monitor, "metric that picks the best epoch")
		fs.IntVar(&tc.Patience, "patience", tc.Patience, "stop after this many epochs without improvement (0 = never)")
		fs.IntVar(&tc.Keep, "keep", tc.Keep, "epoch checkpoints kept besides the best")
	}
	fs.StringVar(&s.Out, "out", s.Out, help("out", "run folder for checkpoints (default runs/MODEL-TIME)"))
	if set.Resume {
		fs.StringVar(&s.Resume, "resume", s.Resume, help("resume", "continue the run whose checkpoint (or run folder) this is"))
		fs.StringVar(&s.Init, "init", s.Init, help("init", "fine-tune: start from this checkpoint's weights (or a run folder's best; e.g. one made by tapeml import), keeping its architecture and tokenizer; the optimizer and epochs start afresh"))
	}
	fs.BoolVar(&s.Force, "force", s.Force, help("force", "train afresh into an --out that holds a run, deleting its checkpoints"))
	fs.IntVar(&s.Threads, "threads", s.Threads, help("threads", "CPU threads (default: all); the same seed and thread count give the same weights"))
	on := fs.Bool("dp", false, "differentially private training (DP-SGD with Poisson sampling at rate batch/N, RDP accounting)")
	fs.Float64Var(&dp.MaxGradNorm, "max-grad-norm", 0, "--dp: per-example gradient clipping bound C")
	fs.Float64Var(&dp.Noise, "noise", 0, "--dp: noise multiplier σ (Gaussian noise of std σ·C on the summed gradients)")
	fs.Float64Var(&dp.TargetEpsilon, "target-epsilon", 0, "--dp: instead of --noise, the smallest σ that spends at most this epsilon over --epochs")
	fs.Float64Var(&dp.Delta, "delta", 1e-5, "--dp: δ of the reported (ε, δ); must be below 1/N")
	fs.BoolVar(&dp.InsecureSeededNoise, "dp-insecure-seeded-noise", false, "--dp: draw the sampling and noise from streams seeded by --seed, reproducibly; INSECURE: whoever holds the checkpoint can regenerate the noise (default: a cryptographically secure generator whose key is never stored)")
	return on
}

// warmupFlag is --warmup: a warm-up in steps, which replaces a kind's
// default warm-up in epochs or as a ratio (a schedule takes one).
type warmupFlag struct{ s *optim.ScheduleConfig }

func (w warmupFlag) String() string {
	if w.s == nil {
		return "0"
	}
	return strconv.Itoa(w.s.WarmupSteps)
}

func (warmupFlag) Type() string { return "int" }

func (w warmupFlag) Set(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil {
		return err
	}
	w.s.WarmupSteps, w.s.WarmupEpochs, w.s.WarmupRatio = n, 0, 0
	return nil
}
