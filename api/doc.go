// Package api holds the types that cross a model's boundary, shared by
// the runtime (package tapeml), the model families that implement it, the
// server and clients: named tensors and the signature that lists them
// (the Open Inference Protocol's vocabulary), and the answers a classifier
// or a recommender gives.
//
// A model's Signature names its raw inputs — "text" (BYTES), "image"
// (BYTES, an encoded PNG or JPEG), "images" (FP32 pixels), "user", "item",
// "n" — and its outputs. The server turns a request of either REST
// protocol (or gRPC) into these tensors and back without knowing which
// kind of model answers.
package api
