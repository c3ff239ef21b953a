// Package serve is tapeml's inference server: it serves the models of a
// repository directory over the Open Inference Protocol v2 (the REST
// protocol of Triton, KServe and Seldon) and TensorFlow Serving's REST
// predict API, with model versions, hot reload, dynamic batching and
// Prometheus metrics.
//
// A repository is laid out as DIR/<name>/<version>/, a positive integer
// version holding a checkpoint folder, a run folder or one exported
// .safetensors file. DIR/<name>/config.json may set a version policy and
// labels (see ModelConfig). The server polls the repository: a new version is
// loaded and warmed up before it is swapped in atomically, a removed one
// is drained — its in-flight requests finish — before it is released, and
// a version that fails to load is reported and never replaces a working
// one.
//
// Concurrent requests to one model version are merged by a dynamic
// batcher up to a batch size or a delay, whichever comes first.
//
// The files hold one concern each: repository.go (scanning and version
// policy), manager.go (loading, swapping, draining), batcher.go (dynamic
// batching), v2.go and v1.go (the two protocols), tensors.go (decoding and
// validating request tensors), metrics.go, web.go (the page at /) and
// server.go (HTTP server, limits, shutdown).
package serve
