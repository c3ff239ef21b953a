// Package all links every built-in model kind into a program: import it
// for its side effect, as the command line and the server do.
//
//	import _ "github.com/tapeml/tapeml/models/all"
//
// A kind registers itself from its own package (kinds.Register), so a
// program that needs only some kinds can import just those packages
// instead.
package all

import (
	_ "github.com/tapeml/tapeml/models/convnet"
	_ "github.com/tapeml/tapeml/models/fasttext"
	_ "github.com/tapeml/tapeml/models/lstm"
	_ "github.com/tapeml/tapeml/models/textcnn"
	_ "github.com/tapeml/tapeml/models/transformer"
	_ "github.com/tapeml/tapeml/recommender"
)
