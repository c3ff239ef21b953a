// Package textclass is the text classification family: the kinds that
// read raw texts and answer with a class (textcnn, lstm). It turns a
// corpus into the datasets they train on, with the preprocessing
// (text.Preprocess) fitted on its training split.
package textclass
