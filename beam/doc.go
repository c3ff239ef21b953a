// Package tapebeam scores with tapeml models on Apache Beam (Go SDK): the
// same pipeline runs locally on Prism and on Dataflow, Flink or Spark.
//
// ClassifyTexts, ClassifyImages and Recommend take keyed inputs
// (KV<string, input>) and a model path, and emit each input's key with its
// result. Each worker loads the model once (in the DoFn's Setup; one model
// per path per process, shared by every DoFn instance, since a
// tapeml.Model is safe for concurrent use) from a local path or any
// filesystem Beam's filesystem package reads, and scores elements in
// batches.
//
// It is its own Go module so that the core tapeml module carries none of
// Beam's dependencies.
package tapebeam
