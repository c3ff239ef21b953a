// Package lstm is tapeml's reference sentiment classifier: a two-layer
// bidirectional LSTM over word embeddings, for binary tasks such as movie
// review sentiment (IMDB) or spam filtering.
//
//	ids [N, MaxLen] → Embedding(NumWords, 100, padding id 0) → Dropout(0.5)
//	→ 2-layer bidirectional LSTM(hidden 256, dropout 0.5 between the layers)
//	  over each text's real tokens (ids ≠ 0)
//	→ the top layer's last forward and backward hidden states, concatenated
//	  [N, 512] → Dropout(0.5) → Linear(512 → 1) → logit
//
// trained with binary cross-entropy on the logit (sigmoid at prediction
// time), Adam at lr 0.005 with the global gradient norm clipped to 5, batch
// 32, 10 epochs; texts are prepared by the Keras-style tokenizer (num_words
// 25000) and pad_sequences (maxlen 200).
//
// The reference trains with Adam's default lr 0.001. With three epochs on the
// SpamAssassin corpus (maxlen 100, seed 1) that reached validation accuracy
// 0.926 and test accuracy 0.939; lr 0.003 reached 0.944 / 0.965, and lr 0.005
// with clipping 0.967 / 0.980, so the latter is the default. The clipping
// keeps the larger steps stable through the recurrence.
//
// Keras pads before the text ('pre'), PyTorch's packed sequences expect the
// padding after it; the LSTM reads a mask of the real tokens instead of
// lengths, so the result is the same either way and equals PyTorch's
// pack_padded_sequence. A text with no known word has zero final states,
// and so the logit fc.bias: a defined prediction, not a NaN.
//
// Parameter names follow the PyTorch module RNN in tools/pytorch/models.py
// (nn.Embedding "embedding", nn.LSTM "rnn", nn.Linear "fc"):
// embedding.weight [NumWords, 100], rnn.weight_ih_l0 [1024, 100],
// rnn.weight_hh_l0 [1024, 256], rnn.bias_ih_l0 and rnn.bias_hh_l0 [1024],
// the same with the suffix _reverse, then layer 1 (weight_ih_l1 [1024, 512]),
// fc.weight [1, 512], fc.bias [1]; load_state_dict takes them as they are.
package lstm
