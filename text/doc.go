// Package text is tapeml's text preprocessing: cleaning raw texts
// (CleanOptions: e-mail read as MIME — transfer encodings, charsets,
// multipart, encoded headers — and HTML reduced to text), the Keras-style
// tokenizer and pad_sequences, and Preprocess, the state a text model saves
// so that prediction reads a text exactly as training did.
//
// Tokenizing and padding have the semantics of Keras's text preprocessing,
// so that a vocabulary and the padded batches built from it match what a
// Keras user expects, index for index.
//
// A Tokenizer is Keras's tf.keras.preprocessing.text.Tokenizer at word
// level:
//
//	tok := text.NewTokenizer(text.TokenizerConfig{NumWords: 10000, OOVToken: "<OOV>"})
//	tok.Fit(trainTexts)                      // fit_on_texts
//	seqs := tok.Sequences(texts)             // texts_to_sequences
//	x, maxLen, err := text.PadFlat[float32](seqs, text.PadConfig{MaxLen: 200}) // pad_sequences
//
// Words are found as text_to_word_sequence does: the text is lower-cased the
// way Python's str.lower does it (including İ → i̇ and word-final ς), every
// filter character becomes the split string, the text is split on it and
// empty strings are dropped. Index 0 is reserved for padding; the OOV token,
// if any, has index 1; the other words follow by decreasing count, ties
// broken by first appearance. NumWords limits Sequences to indices below
// NumWords, so it keeps NumWords-1 words counting the OOV token, exactly as
// Keras does.
//
// PadFlat is pad_sequences: rows of MaxLen (default: the
// longest sequence), padded and truncated at the front by default. Unlike
// Keras, a bad Padding or Truncating value is an error even when no sequence
// needs it.
//
// The Tokenizer's exported fields are its complete state and encode to JSON,
// so it can be stored beside a model's weights and restored with
// json.Unmarshal, which validates it.
//
// The expected values in the tests were produced by Keras itself
// (testdata/keras_golden.py, Debian's python3-keras-preprocessing).
// Character-level tokenizing, texts_to_matrix and sequences_to_texts are not
// implemented.
package text
