// Package transformer is the Transformer encoder text classifier, BERT's
// architecture at a size that trains from scratch on two cores:
//
//	ids [N, T] ([CLS] pieces… [SEP] [PAD]…, WordPiece)
//	→ word + token type + position embeddings → LayerNorm → dropout   [N, T, D]
//	→ Layers × encoder layer (self-attention over the real tokens, GELU feed-forward;
//	  post-LN as BERT, or pre-LN)                                      [N, T, D]
//	→ pooling: the mean over real tokens (default), or [CLS] through BERT's pooler (dense + tanh)   [N, D]
//	→ dropout → dense                                                  [N, 1] or [N, classes]
//
// The texts are read by the text family's WordPiece preprocessing
// (textclass.WordPieced): from scratch, a vocabulary of VocabSize pieces
// is learned from the training texts and stored with the checkpoint, so
// that prediction, tapeml.Load and the server tokenize as training did.
// The default training is Hugging Face Trainer's: AdamW (weight decay
// 0.01) with a linear warm-up and a linear decay to 0.
//
// Parameter names are Hugging Face's BertForSequenceClassification's
// ("bert.embeddings.word_embeddings.weight",
// "bert.encoder.layer.0.attention.self.query.weight", …,
// "bert.pooler.dense.weight", "classifier.weight"); a binary model has one
// logit, the difference of a two-label BERT's two.
//
// Besides tapeml's own checkpoints, the model exports to a Hugging Face
// folder (Config.HF, export --format hf) and to an ONNX graph (Config.ONNX,
// export --format onnx: opset 13, LayerNorm, exact GELU and the masked
// attention written out, the initializers under the same names).
package transformer
