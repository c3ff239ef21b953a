// Package predictio reads the inputs of `tapeml predict` (a text per line,
// JSONL objects or CSV with a header) and writes its --json objects, so that
// every command scoring texts, images or users — cmd/tapeml and the Beam
// module's tapeml-beam — reads and writes the same formats.
package predictio
