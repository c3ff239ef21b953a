package kinds

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/tapeml/tapeml/samples"
	"github.com/tapeml/tapeml/textdata"
)

// BuiltinText names the compiled-in SpamAssassin sample in checkpoints.
const BuiltinText = "builtin:spamassassin-sample"

// TextSource says where a text run's data came from, so evaluation finds
// the same test split again.
type TextSource struct {
	Path    string               `json:"path"` // a file or folder, or BuiltinText
	Options textdata.TextOptions `json:"options"`
}

// TextRun is a text checkpoint's model_config: the architecture and the
// data.
type TextRun struct {
	Model json.RawMessage `json:"model"`
	Data  TextSource      `json:"data"`
}

// Load reads the corpus.
func (s TextSource) Load() (*textdata.TextCorpus, error) {
	if s.Path == BuiltinText {
		return samples.SpamAssassinWith(s.Options)
	}
	if s.Path == "" {
		return nil, fmt.Errorf("--data is empty: give a file or folder")
	}
	if _, err := os.Stat(s.Path); err != nil {
		return nil, fmt.Errorf("--data %s: no such file or folder", s.Path)
	}
	return textdata.LoadText(s.Path, s.Options)
}

// TextArch is a text classifier's architecture: the sequence length and
// vocabulary its preprocessing must match.
type TextArch interface {
	Arch
	SeqLen() int
	Vocab() int
}

// decodeText decodes a text run's architecture into arch (which holds the
// defaults).
func decodeText(raw json.RawMessage, arch Arch) (string, Arch, error) {
	var run struct {
		Model json.RawMessage `json:"model"`
	}
	if err := json.Unmarshal(raw, &run); err != nil {
		return "", nil, err
	}
	if err := decodeArch(run.Model, "model", arch); err != nil {
		return "", nil, err
	}
	return "", arch, nil
}
