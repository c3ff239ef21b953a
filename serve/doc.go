// Package serve is tapeml's inference server: it serves the models of a
// repository directory over the Open Inference Protocol v2 (the REST
// protocol of Triton, KServe and Seldon) and TensorFlow Serving's REST
// predict API, with model versions, hot reload, dynamic batching and
// Prometheus metrics.
//
// A repository is laid out as DIR/<name>/<version>/, a positive integer
// version holding a checkpoint folder, a run folder or one exported
// .safetensors file; model and version folders may be symbolic links to
// folders (Kubernetes volumes), those leaving the repository only with
// Config.FollowExternalLinks (serve --follow-external-links), and every
// entry skipped is logged once with its reason. The repository may also
// be an object store (gocloud.dev/blob: file:// always, s3://, gs:// and
// azblob:// in a binary built with -tags cloud), mirrored before each scan
// into Config.CacheDir (serve --cache) with versions up to
// Config.MaxVersionBytes (serve --max-version-bytes).
//
// DIR/<name>/config.json may set a version policy and labels (see
// ModelConfig), a traffic split and a shadow version: requests naming no
// version, REST and gRPC, go to a version by weight, or by the value of
// Config.StickyHeader (serve --sticky-header), and a copy of each goes to
// the shadow, whose disagreements are counted and logged, never returned;
// at most Config.ShadowConcurrency (serve --shadow-concurrency) copies run
// at once. The metadata endpoints return a version's model card (tapeml
// publish, package repo).
//
// The server polls the repository: a new version is loaded and warmed up
// before it is swapped in atomically, a removed one is drained — its
// in-flight requests finish — before it is released, and a version that
// fails to load is reported and never replaces a working one.
//
// Concurrent requests to one model version are merged by a dynamic
// batcher up to a batch size or a delay, whichever comes first; a longer
// request runs in chunks of that size, which other requests run between,
// and stops at its next chunk once its client has left.
//
// A server can face a network: every request's cost is bounded before
// its work starts (Limits: instances, values, text bytes, decoded pixels,
// answer values, attribution passes); connections are capped (idle ones
// make room for new ones) and so are requests in flight per model; a NaN
// or infinite output is an error, never an answer; errors tell clients
// what was wrong and log the server's own details under a request id;
// bearer tokens, TLS, an origin policy and JSON-only bodies keep other
// parties and other web pages out. The Open Inference Protocol is also
// served over gRPC (package inference), sharing models, batchers, limits,
// tokens and metrics with REST.
//
// The files hold one concern each: repository.go (scanning and version
// policy), manager.go (loading, swapping, draining), batcher.go (dynamic
// batching), traffic.go (traffic splits and shadows), card.go (model
// cards in metadata), objectstore.go (object-store repositories), v2.go,
// v1.go and grpc.go (the protocols), explain.go
// (explanations), infer.go and tensors.go (decoding and validating request
// tensors), limits.go (each request's cost), errors.go (the one error
// mapping, request ids), security.go (tokens, origins, content types),
// conns.go (the connection cap), metrics.go, openapi.go (GET
// /openapi.json), web.go (the page at /) and server.go (configuration,
// HTTP and gRPC servers, shutdown).
package serve
