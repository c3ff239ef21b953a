// Package onnx exports tapeml's trained models as ONNX files, for
// onnxruntime, TensorRT, OpenVINO, browsers (onnxruntime-web) and the rest
// of the ONNX ecosystem.
//
// It has three parts:
//
//   - the subset of onnx.proto that inference graphs need (Model, Graph,
//     Node, Attribute, Tensor, ValueInfo; proto.go);
//   - Model.Marshal, which encodes it with google.golang.org/protobuf's
//     protowire (encode.go, no generated code) and writes the same bytes
//     as the reference protobuf library. tapeml writes ONNX and never reads
//     it: the decoder the tests use is internal/onnxtest;
//   - one builder per model kind, which turns a checkpoint's weights (its
//     model.safetensors, PyTorch state_dict names) and architecture config
//     into the model's inference graph: fastText, TextCNN, LSTM,
//     Transformer, ConvNet and MF. GraphBuilder.LayerNorm writes
//     nn.LayerNorm out in opset 13's ops for the builders that need it.
//
// Every graph is opset 13, IR version 7, producer "tapeml", with a symbolic
// batch dimension ("batch") on every input and output:
//
//	fasttext, textcnn, lstm, transformer
//	               ids int64 [batch, maxlen]       → logits, probs float [batch, 1 or classes]
//	convnet        images float [batch, C, H, W]   → logits, probs float [batch, classes]
//	mf             user, item int64 [batch]        → rating float [batch]
//
// probs is sigmoid(logits) for the binary text classifiers and
// softmax(logits) over classes for the others and convnet; rating is clipped to the
// model's scale, as in tapeml's evaluation graph. The graphs compute
// tapeml's inference function: dropout is the identity, batch
// normalization uses the running statistics.
//
// Weights are initializers with little-endian float32 raw_data under their
// PyTorch names when the layout is unchanged. The LSTM's are re-laid out
// for ONNX's LSTM op (gates i, o, f, c; both directions stacked) under
// derived names, rnn.W_l0, rnn.R_l0, rnn.B_l0 and so on. A builder checks
// every weight against the config and reports, in one error, each one
// missing, of the wrong shape or dtype, or left over.
//
// Weights given in an int8 checkpoint's form (W.int8, W.scale,
// W.input_scale) are written in ONNX Runtime's QDQ form: int8
// initializers with DequantizeLinear, QuantizeLinear/DequantizeLinear on a
// convolution's input with its static scale, dynamic int8 Linears
// (DynamicQuantizeLinear, MatMulInteger) and, for an all-int8 LSTM layer,
// ONNX Runtime's com.microsoft.DynamicQuantizeLSTM (quant.go). Such a
// graph may import the com.microsoft domain besides opset 13.
//
// Marshal refuses a model whose initializers need more than 2 GiB, the
// limit of one protobuf message (tapeml writes no external data).
//
// Metadata (metadata_props) holds tapeml.kind and tapeml.config (the
// config as JSON); callers may add more before Marshal.
//
// Ids and indices are not range-checked by the graph: runtimes reject an
// index past the table, but ONNX's Gather reads a negative index from the
// end, so callers must pass ids in [0, rows), as tapeml's tokenizers and id
// maps produce.
//
// Metadata: package export (which callers normally go through) replaces
// tapeml.kind with the checkpoint's kind and adds the checkpoint's configs
// and preprocessing.
//
// The exports are checked numerically by tools/roundtrip/run.sh:
// tools/roundtrip writes each model with tapeml's outputs on inputs that
// cover every padding layout, and tools/onnx/run.mjs runs it in
// onnxruntime-node and compares.
package onnx
