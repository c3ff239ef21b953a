// Package checkpoint stores everything needed to evaluate a model or resume
// its training as one directory, written atomically and verified on load.
//
// A checkpoint directory holds:
//
//	meta.json              format version, model kind and config, preprocessing
//	                       state, epoch/step, RNG, optimizer and schedule
//	                       settings and scalar state, history, best metric, and
//	                       the sha256 and size of every other file
//	model.safetensors      weights and buffers under PyTorch state_dict names,
//	                       loadable with safetensors.torch.load_file
//	optimizer.safetensors  optimizer slots (absent when weights-only)
//	history.csv, ...       any extra files the trainer adds
//
// Save writes all of it into a temporary directory beside the target, syncs
// every file and the directory, and only then renames it into place, so a
// crash or error never leaves a half-written checkpoint under the real name.
// Load checks the format version and every file's size and sha256 before
// decoding anything; a truncated or flipped byte is reported with the file's
// path.
//
// A Dir manages a training run's output folder:
//
//	runs/textcnn-20250101-120000/
//	  lock           the training's process id, while it runs (see Lock)
//	  index.json     {"latest": "epoch-0007", "best_epoch": 5, "checkpoints": [...]}
//	  epoch-0005/    the best epoch, kept out of rotation
//	  epoch-0006/    the Keep most recently saved epochs (default 3)
//	  epoch-0007/
//	  best/          a copy of the best epoch's checkpoint (files hard-linked),
//	                 for tools that load runs/NAME/best/model.safetensors
//
// index.json is replaced atomically after each save; readers (Latest,
// Best, Resolve, Open) follow it to an epoch directory, which a save renames
// into place complete and never rewrites while it is the latest or best, so
// a reader never sees a half-replaced checkpoint while a training writes the
// next one. Its checkpoints list (oldest first, by save time rather than
// epoch number, so that a resumed run's new epochs count as newest) is what
// rotation deletes from: a directory the index never listed is never
// deleted. A save killed at any point leaves the previous checkpoints
// readable (the package's tests kill Dir.Save after each file system
// operation), and the next Save repairs what it left.
//
// A training calls Start (the lock, and for a fresh run a refusal to write
// into a folder holding another run) before its first Save.
//
// Resolve turns what a user typed (a run folder or a checkpoint directory)
// into a checkpoint directory: the best one for evaluation and prediction,
// the latest one for resuming.
package checkpoint
