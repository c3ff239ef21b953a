// Package dataset is what the trainer, evaluation and calibration read:
// a fixed-size, indexable collection of examples (Dataset), with Tensors
// as its in-memory form and Subset as a selection of one.
//
// The data packages (textdata, imagedata, recsys) and the families build
// datasets; the trainer (package train) and the runtime's Evaluate read
// them. Keeping the interface here, below both, lets the inference runtime
// evaluate a model without linking the trainer.
package dataset
