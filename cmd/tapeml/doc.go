// Command tapeml trains, evaluates, runs and exports tapeml's models.
//
//	tapeml train textcnn|lstm [--data PATH] [--epochs N] [--batch N] [--lr F] [--maxlen N] [--seed N] [--out DIR] [--resume DIR | --init DIR]
//	tapeml train convnet [--data DIR] [--augment LIST] [--epochs N] [--out DIR] [--resume DIR | --init DIR]
//	tapeml train recsys --algo mf|knn|svd [--data FILE] [--items FILE]
//	tapeml eval --checkpoint DIR [--data PATH] [--json]
//	tapeml predict --checkpoint DIR [--top K] [--json] [--input-format text|jsonl|csv] [TEXT ... | IMAGE ...]
//	tapeml recommend --checkpoint DIR --user ID [-n N] [--json]
//	tapeml similar --checkpoint DIR --user ID | --item ID [-n N] [--json]
//	tapeml export --checkpoint DIR [--format safetensors|onnx] --out FILE
//	tapeml import --weights FILE [--like DIR] --out DIR
//	tapeml models
//	tapeml completion bash|zsh|fish
//	tapeml --version
//
// Without --data, train uses compiled-in samples (SpamAssassin e-mails,
// Fashion-MNIST images, synthetic ratings), so an installed binary works
// anywhere. Flags go anywhere after the command (-name works as --name);
// every command takes --help, and help goes to stdout. Errors go to stderr
// as one line; the exit status is 1 for a failed operation, 2 for a usage
// error and 130 for a training stopped by Ctrl-C or SIGTERM (it keeps its
// last complete epoch and says how to resume). See docs/cli.md.
package main
