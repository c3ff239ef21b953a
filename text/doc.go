// Package text is tapeml's text preprocessing: cleaning raw texts
// (CleanOptions: e-mail read as MIME — transfer encodings, charsets,
// multipart, encoded headers — and HTML reduced to text), the Keras-style
// tokenizer and pad_sequences, BERT's WordPiece tokenizer, and Preprocess,
// the state a text model saves so that prediction reads a text exactly as
// training did.
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
// # WordPiece
//
// WordPiece is BERT's tokenizer, for Transformer encoders, exactly as
// Hugging Face's BertTokenizer and Google's tokenization.py do it: the
// basic tokenizer (control characters, NUL and U+FFFD removed, whitespace
// to spaces, every CJK ideograph a token, lower-casing as Python's
// str.lower and accent stripping by NFD for uncased models, punctuation
// split off), then greedy longest-match-first WordPiece with "##"
// continuations and [UNK] for a word without a decomposition or over
// MaxCharsPerWord (100) characters. Special tokens written in the text
// stay whole, as Hugging Face's tokenizer keeps them. Encode and
// EncodePair add [CLS] and [SEP], token types and the attention mask and
// truncate to a maximum length; Pad pads.
//
// ReadVocab reads vocab.txt, ReadTokenizerJSON the WordPiece model and
// BertNormalizer of a tokenizer.json; both bound the file, the tokens and
// their length and reject duplicates with the line or token named.
// LearnWordPiece learns a vocabulary from training texts by merging the
// most frequent pairs, as Hugging Face's WordPieceTrainer (see its
// documentation for why not by the likelihood score).
//
// Where Hugging Face's Rust tokenizer (tokenizer.json) and its Python one
// differ, WordPiece follows the Python one, which is BERT's: it
// lower-cases before stripping accents (Rust strips first, so İ gives "i"
// here and "i̇" there) and lower-cases a word-final Σ to ς as Python's
// str.lower does. It applies no NFC normalization before splitting
// (recent Python releases of BasicTokenizer do; BERT's did not). Go's
// Unicode tables (15.0) may classify characters added since Python's
// (14.0 in Debian's Python 3.11) differently.
//
// WordPiece lives here rather than in a package of its own because it
// shares the Python-exact lower-casing with the Keras tokenizer and is,
// like it, the text preprocessing a model saves beside its weights.
//
// The expected values in the tests were produced by Keras itself
// (testdata/keras_golden.py, Debian's python3-keras-preprocessing); the
// WordPiece tests use Hugging Face's own test vectors, copied as data
// (testdata/wordpiece/hf_vectors.json), and vectors computed by Python's
// unicodedata and str.lower (testdata/wordpiece/wordpiece_golden.py).
// Character-level tokenizing, texts_to_matrix and sequences_to_texts are not
// implemented.
package text
