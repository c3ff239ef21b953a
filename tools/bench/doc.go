// Package bench measures tapeml's training throughput on the reference
// models against PyTorch's, in one run on one machine, for `tapeml bench`.
//
// Each workload trains one reference model for a fixed number of steps on
// synthetic data at its reference configuration (TextCNN, BiLSTM, ConvNet
// and the transformer at batch 32, MF at batch 256) and reports samples
// per second.
// When a Python with PyTorch is available (Debian's /usr/bin/python3 with
// python3-torch), the matching script in tools/pytorch runs in the same
// process tree right after, at the same thread count, and the report gives
// tapeml's throughput as a ratio of PyTorch's. Speeds vary with the
// machine and its load; only ratios measured together mean anything, so a
// Report names the CPU, its vector features, the kernel path tapeml used
// (see TAPEML_SIMD in package graph) and the thread count.
//
// The anchor is measured at its best: tools/pytorch/anchor.py reports the
// PyTorch build's BLAS_INFO, the BLAS it loaded and torch.mm's speed; a
// reference (Netlib) BLAS gets no ratio, and on AVX-512 CPUs an
// OPENBLAS_CORETYPE that holds OpenBLAS to AVX2 kernels is dropped for the
// reference runs once the AVX-512 kernels pass a check against float64.
// Each row also gives both sides' fraction of the machine's sgemm peak
// (the better of tapeml's 1024² sgemm, before and after the workloads,
// and torch.mm, same run), from FLOPs counted on the workload's training
// graph (graph.Machine.FLOPs). The
// report also gives the FMA peak (FMAPeak): multiply-adds on registers
// only, the limit no product reaches, of which the sgemm peak is a part.
//
// Inference workloads (batch 32 and batch 1, against ONNX Runtime) plug in
// through Config.Inference: each is a Workload whose Reference, if any,
// runs the external engine.
package bench
