// Command tapeml trains, evaluates and runs tapeml's models.
//
//	tapeml train textcnn [--data PATH] [--epochs N] [--batch N] [--lr F] [--maxlen N] [--seed N] [--out DIR] [--resume DIR]
//	tapeml eval --checkpoint DIR [--data PATH] [--json]
//	tapeml predict --checkpoint DIR [--json] [TEXT ...]
//	tapeml models
//
// Without --data, train uses a compiled-in sample of the SpamAssassin
// corpus, so an installed binary works anywhere. Every command takes --help.
// Errors go to stderr as one line and the exit status is non-zero.
package main
