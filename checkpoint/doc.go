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
//	  index.json     {"latest": "epoch-0007", "best_epoch": 5, "checkpoints": [...]}
//	  epoch-0005/    the Keep most recently saved epochs (default 3)
//	  epoch-0006/
//	  epoch-0007/
//	  best/          a copy of the best epoch's checkpoint (files hard-linked)
//
// best/ is a separate directory rather than a pointer to an epoch directory
// so that rotation can never delete it and re-saving an epoch after a
// resume can never change it behind the index's back. index.json is replaced
// atomically after each save; it is what Latest reads, and its checkpoints
// list (oldest first, by save time rather than epoch number, so that a
// resumed run's new epochs count as newest) is what rotation keeps.
//
// Resolve turns what a user typed (a run folder or a checkpoint directory)
// into a checkpoint directory: the best one for evaluation and prediction,
// the latest one for resuming.
package checkpoint
