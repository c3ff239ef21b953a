// Package kinds is tapeml's one registry of model kinds, and the decoding
// of a checkpoint into a usable model.
//
// A kind is one package plus one registration: the model's package
// (models/textcnn, say) holds its configuration with defaults and limits,
// its graph and loss, its ONNX graph, its command-line flags and its
// reference training configuration, and registers itself from an init
// function (Register). Programs link the kinds they serve by importing
// their packages — models/all imports every built-in one.
//
// A kind belongs to a Family (text, image, recommender), which owns what
// its kinds share: the run format and preprocessing their checkpoints
// carry, how raw inputs become network inputs and outputs become answers
// (the Codec, with the model's Signature), and the data they train and
// are evaluated on. The runtime, the server, explanations and the command
// line work through these interfaces and never switch on a family.
//
// Decode turns a checkpoint (package checkpoint reads every form of one)
// into a Loaded model: its configuration is checked against the family's
// preprocessing and, before any parameter is allocated, against the shapes
// of its weights, so that a few bytes of hostile JSON cannot ask for
// gigabytes.
package kinds
