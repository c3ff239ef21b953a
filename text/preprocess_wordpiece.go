package text

import (
	"encoding/json"
	"fmt"
)

// WordPieceVocab is a WordPiece tokenizer as a model's preprocessing keeps
// it: in JSON its vocabulary (token i has id i) and options; reading the
// JSON builds the tokenizer again, checking the vocabulary as NewWordPiece
// does.
type WordPieceVocab struct {
	*WordPiece
}

type wordPieceJSON struct {
	Config WordPieceConfig `json:"config"`
	Vocab  []string        `json:"vocab"`
}

// MarshalJSON writes the options and the vocabulary.
func (v WordPieceVocab) MarshalJSON() ([]byte, error) {
	if v.WordPiece == nil {
		return []byte("null"), nil
	}
	return json.Marshal(wordPieceJSON{Config: v.Config(), Vocab: v.Tokens()})
}

// UnmarshalJSON reads the options and the vocabulary and builds the
// tokenizer.
func (v *WordPieceVocab) UnmarshalJSON(b []byte) error {
	var j wordPieceJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	w, err := NewWordPiece(j.Vocab, j.Config)
	if err != nil {
		return err
	}
	v.WordPiece = w
	return nil
}

// FitWordPiece builds the preprocessing of a training split of
// already-cleaned texts for a model that reads WordPiece pieces, as BERT
// does: the vocabulary is learned from the texts (LearnWordPiece with
// learn), and every text becomes [CLS] pieces… [SEP], cut to maxLen and
// padded after it with [PAD], which the learned vocabulary puts at id 0.
func FitWordPiece(texts []string, labels []int, classes []string, positive int, clean CleanOptions, learn LearnConfig, maxLen int) (*Preprocess, error) {
	prior, err := classPrior(texts, labels, classes, maxLen)
	if err != nil {
		return nil, err
	}
	if maxLen < 2 {
		return nil, fmt.Errorf("maxlen %d leaves no room for [CLS] and [SEP]", maxLen)
	}
	vocab, err := LearnWordPiece(texts, learn)
	if err != nil {
		return nil, err
	}
	cfg := learn.Tokenizer
	if cfg == (WordPieceConfig{}) {
		cfg = DefaultWordPieceConfig()
	}
	w, err := NewWordPiece(vocab, cfg)
	if err != nil {
		return nil, err
	}
	return NewWordPiecePreprocess(w, clean, maxLen, classes, positive, prior), nil
}

// NewWordPiecePreprocess is the preprocessing of a model that reads
// WordPiece pieces of w (an imported model's vocabulary, say): texts
// cleaned by clean, [CLS] pieces… [SEP] cut to maxLen and padded after
// with w's [PAD].
func NewWordPiecePreprocess(w *WordPiece, clean CleanOptions, maxLen int, classes []string, positive int, prior []float64) *Preprocess {
	return &Preprocess{
		Clean: clean, WordPiece: &WordPieceVocab{w},
		Pad:     PadConfig{MaxLen: maxLen, Padding: "post", Truncating: "post", Value: w.PadID()},
		Classes: classes, Positive: positive, Prior: prior,
	}
}

// wordPieceIDs encodes texts as p's WordPiece rows.
func (p *Preprocess) wordPieceIDs(texts []string) ([]float32, error) {
	L := p.Pad.MaxLen
	ids := make([]float32, len(texts)*L)
	for i, s := range texts {
		e, err := p.WordPiece.Encode(s, L)
		if err != nil {
			return nil, err
		}
		row := ids[i*L : (i+1)*L]
		for t := range row {
			row[t] = float32(p.Pad.Value)
		}
		for t, id := range e.IDs {
			row[t] = float32(id)
		}
	}
	return ids, nil
}

// wordPieceKnown counts the pieces of a row that are neither padding,
// [UNK], [CLS] nor [SEP].
func (p *Preprocess) wordPieceKnown(row []float32) int {
	w := p.WordPiece
	n := 0
	for _, v := range row {
		switch int(v) {
		case w.PadID(), w.UNKID(), w.CLSID(), w.SEPID():
		default:
			n++
		}
	}
	return n
}
