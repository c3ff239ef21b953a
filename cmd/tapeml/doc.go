// Command tapeml trains, evaluates, runs and exports tapeml's models.
//
//	tapeml train textcnn|lstm [--data PATH] [--epochs N] [--batch N] [--lr F] [--maxlen N] [--seed N] [--out DIR] [--resume DIR | --init DIR]
//	tapeml train convnet [--data DIR] [--augment LIST] [--epochs N] [--out DIR] [--resume DIR | --init DIR]
//	tapeml train recsys --algo mf|knn|svd [--data FILE] [--items FILE]
//	tapeml eval --checkpoint DIR [--data PATH] [--json]
//	tapeml predict --checkpoint DIR [--top K] [--json] [TEXT ... | IMAGE ...]
//	tapeml recommend --checkpoint DIR --user ID [-n N] [--json]
//	tapeml similar --checkpoint DIR --user ID | --item ID [-n N] [--json]
//	tapeml export --checkpoint DIR [--format safetensors|onnx] --out FILE
//	tapeml import --weights FILE [--like DIR] --out DIR
//	tapeml models
//
// Without --data, train uses compiled-in samples (SpamAssassin e-mails,
// Fashion-MNIST images, synthetic ratings), so an installed binary works
// anywhere. Every command takes --help. Errors go to stderr as one line and
// the exit status is non-zero.
package main
