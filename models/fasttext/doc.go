// Package fasttext is tapeml's fast baseline text classifier, after Joulin
// et al. (2016), "Bag of Tricks for Efficient Text Classification": the
// average of a text's word vectors and hashed word-bigram vectors, then a
// linear layer.
//
//	ids [N, MaxLen] → BigramEmbedding(NumWords + Buckets, EmbedDim): per position
//	  the word's row plus the row of the hashed pair (word, next word) → [N, MaxLen, EmbedDim]
//	→ TokenMean: the sum over the text's words and bigrams ÷ their number → [N, EmbedDim]
//	→ Linear(EmbedDim → 1 or classes) → logits
//
// Id 0 is padding: its row is zero and has no gradient, padding positions
// and pairs that touch padding are left out of the mean, so a text's
// output depends on its tokens alone. A bigram (a, b) of word ids has row
// NumWords + (a·116049371 + b) mod Buckets (graph.BigramBucket); bigrams
// are over the words the tokenizer kept (it drops unknown words, so the
// words around one become a pair). Buckets 0 gives the words-only model.
//
// Training is plain SGD with a cosine decay of the learning rate: the
// gradient of the embedding table is zero outside the rows of a batch's
// words and bigrams, and SGD updates those rows only (sparse updates, as
// fastText's), which keeps a step's cost proportional to the batch, not to
// the table; the default run takes a few seconds on the built-in sample.
//
// Parameter names follow the PyTorch module FastText in
// tools/pytorch/models.py (nn.Embedding(padding_idx=0) "embedding",
// nn.Linear "fc"): embedding.weight [NumWords+Buckets, EmbedDim],
// fc.weight [1 or classes, EmbedDim], fc.bias.
package fasttext
