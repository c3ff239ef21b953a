// Package quantize makes int8 checkpoints for serving (`tapeml optimize
// --int8`): the weights of Linear and LSTM layers and of convolutions are
// quantized symmetrically per output channel, embedding tables per row, and
// each convolution gets a static input scale from calibration batches of
// its training data (the BatchNorm that follows a convolution folds into
// the per-channel scales at run time, which gives the same integers as
// folding first). Each layer is kept in int8 only where that makes the
// model faster at batch 32: Int8 times, on the model's own test inputs,
// the all-int8 model against the same with one layer in float32, for
// every layer (in the process's CPU time, each batch's fastest round),
// and keeps int8 where the gain is beyond MinGain and the run's own
// noise; the others stay float32 in the checkpoint, which records them
// (checkpoint.Quantization.Float32). The checkpoint it writes is an ordinary checkpoint of the
// same kind (package kinds documents the tensor names), so tapeml.Load,
// predict and eval use it as any other; its serving graphs run the int8
// kernels of package graph.
//
// Int8 also measures the float32 and the int8 model on the model's own test
// split — size, accuracy (RMSE for matrix factorization), throughput at
// batch 32 and batch-1 latency, timed in interleaved rounds so that both
// see the same machine load — the largest logit difference between them,
// and the top-1 agreement of their answers (Agreement). Report.Warnings
// says, typed, when the int8 model is slower at batch 32 or its speed was
// not measured, when no layer was faster in int8, and when the agreement
// is below MinAgreement.
package quantize
