// Package textclass turns labelled texts into model inputs, the same way at
// training, evaluation and prediction time: clean the text (data.TextOptions),
// tokenize it with the Keras-style tokenizer fitted on the training split,
// and pad or truncate it to MaxLen ids with pad_sequences' defaults.
//
// Its Preprocess is saved in every text model's checkpoint, so predict
// tokenizes exactly as training did. The text models (textcnn, and later
// lstm) share it.
package textclass
