// Package textcnn is tapeml's reference text classifier: a one-layer
// convolutional network over word embeddings, for binary tasks such as spam
// filtering or sentiment.
//
//	ids [N, MaxLen] → Embedding(NumWords, 64) → [N, MaxLen, 64]
//	→ permute → [N, 64, MaxLen] → Conv1D(64 filters, kernel 5) → ReLU → [N, 64, MaxLen−4]
//	→ MaxPool1D(5) → [N, 64, (MaxLen−4)/5] → Flatten → Linear(→1) → logit
//
// trained with binary cross-entropy on the logit (sigmoid at prediction
// time), Adam at lr 0.001, batch 32, 10 epochs; texts are prepared by the
// Keras-style tokenizer (num_words 10000) and pad_sequences (maxlen 100).
//
// The Keras model this follows has no Flatten: its Dense layer is applied to
// every pooled time step, giving one output per step. We flatten before the
// dense layer so the model gives one probability per text, which is what a
// classifier is for.
//
// Parameter names follow the equivalent PyTorch module (nn.Embedding "embedding",
// nn.Conv1d "conv", nn.Linear "fc"): embedding.weight [NumWords, 64],
// conv.weight [64, 64, 5], conv.bias [64], fc.weight [1, 64·P], fc.bias [1],
// where P = (MaxLen−Kernel+1)/Pool. The flatten order is PyTorch's
// (channel-major), so a PyTorch model loads the weights as they are.
package textcnn
