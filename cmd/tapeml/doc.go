// Command tapeml trains, evaluates, explains, exports, quantizes and serves
// tapeml's models.
//
// # Commands
//
//	tapeml train MODEL [flags]
//	    Train a model kind of the registry (tapeml models lists them:
//	    textcnn, lstm, convnet, recsys). Each kind's flags are its
//	    configuration's (--maxlen, --hidden, --norm, --algo, …), its
//	    family's data options (--data, --text-column, --augment, --items,
//	    …) and the run's: --epochs, --batch, --lr, --seed, the optimizer
//	    and schedule, --monitor, --patience, --keep, --out, --resume,
//	    --init, --force, --threads, and --dp with --max-grad-norm,
//	    --noise or --target-epsilon, and --delta. Without --data it trains
//	    on a sample built into the binary (SpamAssassin e-mails,
//	    Fashion-MNIST images, synthetic ratings). It prints a line per
//	    epoch, the best epoch's test metrics and "checkpoint: DIR".
//	    --resume continues a run bit-exactly (--epochs is then the total
//	    to reach); --init fine-tunes from a checkpoint's weights. A kind
//	    registered in a linked package gets its train subcommand and flags
//	    without a change here.
//	tapeml eval --checkpoint DIR [--data PATH] [--json] [--rank-users N]
//	    Score a checkpoint on its run's test split, or on other data.
//	tapeml predict --checkpoint DIR [--json] [--top K] [--input-format text|jsonl|csv] [--text-column C] [--batch N] [INPUT ...]
//	    Classify texts (arguments, or stdin as it arrives) or image files.
//	tapeml explain --checkpoint DIR [--method ig|saliency|occlusion] [--sanity] [--out DIR] [--test N] INPUT...
//	tapeml explain --checkpoint DIR --user U --item I
//	    Token and pixel attributions, or a recommender's neighbours.
//	tapeml recommend --checkpoint DIR --user ID [-n N] [--json]
//	tapeml similar --checkpoint DIR (--user ID | --item ID) [-n N] [--json]
//	    A recommender's items for a user, or its similar users or items.
//	tapeml export --checkpoint DIR [--format safetensors|onnx|hf] --out FILE|DIR
//	tapeml import --weights FILE [--like DIR] --out DIR
//	    To PyTorch (safetensors) or ONNX Runtime, and back from a
//	    state_dict.
//	tapeml optimize --checkpoint DIR --int8 [--calibrate N] [--rounds N] --out DIR
//	    Quantize to int8 and measure both models.
//	tapeml serve --models DIR [--addr A] [--max-batch N] [--max-delay D] [--poll D] [--max-body SIZE] [--log-level L]
//	    Serve a model repository over the Open Inference Protocol v2 and
//	    TF Serving's REST API.
//	tapeml privacy (--noise σ | --target-epsilon ε) --sample-rate q (--steps T | --epochs E) [--delta δ] [--classic] [--json]
//	    The DP-SGD accountant: epsilon for a noise multiplier, or the
//	    noise for a target epsilon.
//	tapeml bench [--models LIST] [--steps N] [--torch-steps N] [--threads N] [--python P] [--scripts DIR] [--json]
//	    Training throughput against PyTorch on this machine.
//	tapeml models [--json]
//	    The model kinds with their default configuration and training.
//	tapeml completion bash|zsh|fish|powershell
//	    A shell completion script (commands, model kinds, flags).
//	tapeml help [COMMAND ...], tapeml --version
//
// # Flags
//
// Flags go anywhere after the command, as --name value, --name=value or,
// for booleans, --name; "--" ends them, so that a text starting with a
// dash can follow. The single-dash long form of Go's flag package
// (-epochs 3) still works: before parsing, an argument -name that names a
// long flag of the command is read as --name. -n and -k are the
// one-letter flags of recommend/similar and train recsys. Every command
// takes --help (-h), as does tapeml help COMMAND; help goes to stdout. A
// misspelt command or flag is an error that names the one probably meant.
//
// The library names its settings by key (train.Field: "epochs",
// "embed_dim", "text_column"); errors about them reach the user with the
// flag that sets each one, through the one table in flagnames.go.
//
// # Exit status
//
//	0    success
//	1    the operation failed (bad data, a missing or damaged checkpoint, …)
//	2    the command line is wrong: an unknown command or flag, a missing
//	     or invalid value
//	3    internal error (a panic: a bug; the stack goes to stderr)
//	130  a training stopped by Ctrl-C or SIGTERM: the run folder keeps its
//	     last complete epoch, and the error says how to --resume; a second
//	     signal quits at once
//
// Errors go to stderr as one line, prefixed by the command. See
// docs/cli.md.
package main
