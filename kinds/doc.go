// Package kinds is tapeml's one registry of model kinds, and the one
// loader that turns a checkpoint into a usable model.
//
// A kind registers once (Register, from a file of this package per kind):
// its name and family, how to decode and validate its saved configuration,
// how to build its network, its reference training configuration and its
// ONNX graph. The command line, export, the ONNX round trips and the
// inference runtime (package tapeml) all go through it; a fifth kind is a
// model package plus one registration here.
//
// The run formats a checkpoint's meta.json carries — the model_config of
// each family (TextRun, ImageRun, RecsysRun) and its preprocessing
// (text.Preprocess, ImagePreprocessing, RecsysIDs) — are defined here
// too, and Open reads them back, checking them against each other and
// against the weights before anything large is allocated.
package kinds
