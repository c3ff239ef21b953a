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
// Run is the whole of a training run on top of the trainer, for every
// registered kind: a RunSpec (NewSpec gives a kind's defaults) says the
// kind, its configuration, its family's data options, the training
// configuration, the run folder and whether to resume a run or start from
// a checkpoint's weights; Run takes the run folder's lock, asks the kind's
// family (a Family: textclass, imageclass, recommender) to read and split
// the data and fit the preprocessing, trains, reloads the best epoch and
// tests it. Errors about settings are FieldErrors, which name each
// setting by its key so that a front end can say it its own way.
//
// Optimizers and schedules live in train/optim, metrics and the history in
// metrics, the progress display in train/progress.
package train
