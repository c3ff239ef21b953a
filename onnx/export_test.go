package onnx

// Test fixtures for the external tests (package onnx_test), which may
// import internal/onnxtest: it imports onnx, so this package's own tests
// cannot.
var (
	GoldenModel = goldenModel
)
