// Package inference is the Open Inference Protocol's gRPC service
// (inference.GRPCInferenceService, what KServe and Triton clients call),
// generated from open_inference_grpc.proto — KServe's grpc_predict_v2.proto
// as github.com/kserve/open-inference-protocol publishes it (commit
// d49cc23, specification/protocol/open_inference_grpc.proto, Apache 2.0).
// The generated files are committed; regenerate them with protoc
// (Debian's protobuf-compiler 3.21), protoc-gen-go v1.36.12 and
// protoc-gen-go-grpc v1.6.2 on PATH:
//
//	go generate ./serve/inference
package inference

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go_opt=Mopen_inference_grpc.proto=github.com/tapeml/tapeml/serve/inference --go-grpc_out=. --go-grpc_opt=paths=source_relative --go-grpc_opt=Mopen_inference_grpc.proto=github.com/tapeml/tapeml/serve/inference open_inference_grpc.proto
