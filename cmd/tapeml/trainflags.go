package main

import (
	"flag"

	"github.com/tapeml/tapeml/train"
)

// addOptimizerFlags binds the optimizer and learning-rate schedule of tc
// to flags, the same for every kind the generic trainer trains (text and
// image); tc's values are the defaults shown.
func addOptimizerFlags(fs *flag.FlagSet, tc *train.Config) {
	fs.StringVar(&tc.Optimizer.Name, "optimizer", tc.Optimizer.Name, "sgd, adam, adamw or rmsprop")
	fs.Float64Var(&tc.Optimizer.Momentum, "momentum", tc.Optimizer.Momentum, "SGD/RMSProp momentum")
	fs.Float64Var(&tc.Optimizer.WeightDecay, "weight-decay", tc.Optimizer.WeightDecay, "L2 weight decay (decoupled for adamw; 0 means adamw's default 0.01)")
	fs.Float64Var(&tc.Optimizer.L1, "l1", tc.Optimizer.L1, "L1 penalty")
	fs.Float64Var(&tc.Optimizer.ClipNorm, "clip-norm", tc.Optimizer.ClipNorm, "clip the global gradient norm (0 = off; under --dp the per-example bound is --max-grad-norm)")
	fs.StringVar(&tc.Schedule.Name, "schedule", "constant", "learning-rate schedule: constant, step, exponential, cosine (over all --epochs) or plateau")
	fs.IntVar(&tc.Schedule.WarmupSteps, "warmup", 0, "cosine: linear warm-up steps")
	fs.Float64Var(&tc.Schedule.MinLR, "min-lr", 0, "cosine: final learning rate")
	fs.Float64Var(&tc.Schedule.Gamma, "gamma", 0, "step/exponential: decay factor")
	fs.IntVar(&tc.Schedule.EveryEpochs, "decay-every", 0, "step/exponential: epochs between decays")
}
