package textclass

import (
	"encoding/json"
	"fmt"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/text"
	"github.com/tapeml/tapeml/textdata"
)

// Family is the text family: kinds that read raw texts and answer with a
// class. Text kinds register with it (kinds.Kind.Family).
var Family kinds.Family = family{}

type family struct{}

func (family) Name() string { return "text" }

// Arch is what a text kind's configuration tells its preprocessing: the
// sequence length and the vocabulary size its token ids must fit.
type Arch interface {
	kinds.Config
	SeqLen() int
	Vocab() int
}

// WordPieced is a text kind's configuration that reads its texts as BERT
// does: the WordPiece pieces of a vocabulary of at most Vocab() tokens —
// learned from the training texts when training from scratch — between
// [CLS] and [SEP], cut to SeqLen() and padded after them with [PAD], id 0.
// The family fits that preprocessing instead of the word tokenizer.
type WordPieced interface {
	Arch
	// WordPiece is the basic tokenizer's options and special tokens.
	WordPiece() text.WordPieceConfig
}

// Source says where a text run's data came from, so evaluation finds the
// same test split again.
type Source struct {
	Path    string               `json:"path"` // a file or folder, or a built-in name (dataset.BuiltinPrefix)
	Options textdata.TextOptions `json:"options"`
}

// Load reads the corpus.
func (s Source) Load() (*textdata.TextCorpus, error) {
	if s.Path == "" {
		return nil, fmt.Errorf("no data: give a file or folder")
	}
	return textdata.LoadText(s.Path, s.Options)
}

// Run is a text checkpoint's model_config: the architecture, the data
// and the training crops (none in checkpoints written before them).
type Run struct {
	Model json.RawMessage `json:"model"`
	Data  Source          `json:"data"`
	Crop  Crop            `json:"crop,omitzero"`
}

// Open reads a text checkpoint's run and preprocessing and checks the
// preprocessing against the architecture.
func (family) Open(c *checkpoint.Checkpoint, k *kinds.Kind, cfg kinds.Config) (kinds.Codec, error) {
	meta := c.MetaName()
	arch, ok := cfg.(Arch)
	if !ok {
		return nil, fmt.Errorf("%s: kind %s is in the text family but its configuration has no sequence length and vocabulary", meta, k.Name)
	}
	m := &Codec{kind: k.Name}
	if err := json.Unmarshal(c.Meta.ModelConfig, &m.run); err != nil {
		return nil, fmt.Errorf("%s: model_config: %w", meta, err)
	}
	m.pre = &text.Preprocess{}
	if err := json.Unmarshal(c.Meta.Preprocessing, m.pre); err != nil || m.pre.Tokenizer == nil && m.pre.WordPiece == nil {
		return nil, fmt.Errorf("%s: preprocessing: missing or invalid tokenizer state (%v)", meta, err)
	}
	classes := 2
	if h, ok := cfg.(Headed); ok {
		classes = h.TextHead().NumClasses()
	}
	if err := m.pre.Validate(classes, arch.Vocab(), arch.SeqLen()); err != nil {
		return nil, fmt.Errorf("%s: %w", meta, err)
	}
	return m, nil
}
