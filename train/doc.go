// Package train is tapeml's one trainer for every model.
//
// The model supplies its graph (graph.BuildFunc) and says what its output is
// (Task); the trainer owns the loop: seeded shuffling and batching, one
// training step (forward, backward, optimizer update) at a time, evaluation
// on the validation set after each epoch, named metrics ("train/loss",
// "val/accuracy") in a History, early stopping and best-model tracking,
// progress, and checkpoints that resume bit-exactly.
//
// Everything random is a pure function of the seed and a counter — the
// shuffled order of an epoch of (seed, epoch), the dropout masks of a step
// of (seed, step) — so two epochs straight and one epoch plus a resumed one
// give identical weights.
//
// With Config.DP set, Fit trains with DP-SGD instead (dp.go): Poisson
// sampling, per-example clipping and Gaussian noise, and an RDP accountant
// (package privacy) that reports the epsilon spent.
//
// Optimizers and schedules live in train/optim, metrics and the history in
// metrics, the progress display in train/progress.
package train
