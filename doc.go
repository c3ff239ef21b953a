// Package tapeml loads a trained tapeml model and predicts with it, from
// any number of goroutines at once.
//
//	m, err := tapeml.Load("runs/spam")   // a checkpoint, a run folder or an exported .safetensors
//	preds, err := m.ClassifyTexts(ctx, []string{"WIN a FREE prize", "see you at lunch"})
//	fmt.Println(preds[0].Class, preds[0].Prob)
//
// Text models (textcnn, lstm) take raw texts, cleaned, tokenized and padded
// as at training; image models (convnet) take image.Image values or raw
// pixel tensors, resized and normalized as at training; recommenders
// (recsys: mf, knn, svd) recommend items and predict ratings. A method
// called on a model of another kind returns an error naming the kind.
//
// Predictions run the model's serving graph: the forward pass alone, with
// no loss or targets, dropout removed and batch normalization folded into
// the preceding convolution. A *Model is safe for concurrent use: each call
// borrows a compiled machine from a bounded pool — batch sizes are
// bucketed to powers of two up to Options.MaxBatch, longer requests are
// split, and each bucket keeps at most Options.MachinesPerBucket machines
// — so memory stays bounded whatever sizes and concurrency arrive. A
// cancelled context stops a request between batches.
package tapeml
