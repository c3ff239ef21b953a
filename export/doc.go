// Package export moves a trained tapeml model out of its checkpoint, to
// PyTorch or ONNX Runtime, and brings PyTorch-made weights back in.
//
// Three formats leave a checkpoint (WriteFile):
//
//   - Safetensors: the model's state_dict under the reference PyTorch names,
//     dtypes and layouts (BatchNorm's running statistics and int64
//     num_batches_tracked included), loadable with
//     safetensors.torch.load_file and model.load_state_dict(strict=True)
//     into the modules in tools/pytorch/models.py. The file's __metadata__
//     carries what is needed to use the weights: the model kind, its config
//     and its preprocessing (tokenizer vocabulary and maxlen; image size,
//     channels and normalization; user and item id maps) as JSON, under the
//     keys MetaKind, MetaConfig and MetaPreprocessing.
//   - ONNX: the inference graph (opset 13, dynamic batch dimension) built by
//     package onnx, with the same metadata in metadata_props. An int8
//     checkpoint's graph is in QDQ form (int8 weights and the activation
//     quantization of tapeml's int8 kernels, which ONNX Runtime runs with
//     its int8 kernels), or, with Options.Dequantize (WriteFileOptions),
//     the float32 graph of its dequantized weights; MetaONNXWeights says
//     which.
//   - HF: a Hugging Face model folder (config.json, model.safetensors,
//     vocab.txt, tokenizer_config.json) that transformers' classes load
//     with strict names, for kinds with a Hugging Face form (a
//     configuration's HF method: models/transformer). The folder is
//     written whole (atomicfile.WriteFolder) and replaces only a folder
//     an earlier export wrote (CheckOutput).
//
// Import goes the other way: a safetensors file of one of tapeml's models,
// written by WriteFile or by PyTorch, becomes a weights-only checkpoint for
// evaluation, prediction or fine-tuning (tapeml train --init). Its config
// and preprocessing come from a tapeml checkpoint of the same model (like)
// or, failing that, from the file's own tapeml metadata. Every tensor is
// checked against the model: each missing, unexpected or mis-shaped tensor
// is named.
//
// Files are written atomically (internal/atomicfile): a failed export
// leaves no partial file behind.
package export
