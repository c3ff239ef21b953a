package tapeml

import (
	"context"
	"fmt"

	"github.com/tapeml/tapeml/text"
)

// TokenScore is one token the model saw and its attribution.
type TokenScore struct {
	Token string  `json:"token"` // as the user wrote it (case kept), after the model's cleaning
	ID    int     `json:"id"`    // vocabulary index
	Score float64 `json:"score"`
}

// TextExplanation attributes a text model's target logit to the tokens of
// one text.
type TextExplanation struct {
	Attribution
	Text string `json:"text"`
	// Tokens are the words the model saw, in order: after dropping words
	// outside the vocabulary and after truncation to the model's length.
	// For IG and saliency a score is the attribution at the embedding
	// output summed over the embedding dimension; for occlusion it is the
	// drop of the target when the token's embedding is replaced by the
	// baseline's.
	Tokens []TokenScore `json:"tokens"`
	// Padding is the summed score of the padding positions (IG: zero with
	// the padding baseline, where input and baseline agree there).
	Padding float64 `json:"padding"`
	// Unknown lists the words the vocabulary lacks, which the model never
	// saw (unless the tokenizer has an out-of-vocabulary token).
	Unknown []string `json:"unknown,omitempty"`
	// Truncated is how many known words were cut to fit the model's
	// length; TruncatedFrom says where from: "start" (truncating "pre",
	// Keras's default) or "end" ("post").
	Truncated     int    `json:"truncated"`
	TruncatedFrom string `json:"truncated_from,omitempty"`
}

// textTokens aligns a cleaned text's words with the ids row the model
// sees: the visible tokens and where they sit in the row.
type textTokens struct {
	words     []string // the visible tokens, case kept
	ids       []int
	at        int // position of the first visible token in the row
	unknown   []string
	truncated int
	from      string
}

func (m *Model) alignTokens(clean string, row []float32) (textTokens, error) {
	pre := m.loaded.Text.Pre
	tok := pre.Tokenizer
	words := tok.Words(clean)
	// The same split without lower-casing gives the words as written;
	// lower-casing never adds or removes a separator, but if the counts
	// differ the lower-cased words are shown.
	cased := text.WordSequence(clean, text.TokenizerConfig{Filters: tok.Filters, NoFilters: tok.Filters == "", KeepCase: true, Split: tok.Split})
	if len(cased) != len(words) {
		cased = words
	}
	oov, hasOOV := 0, false
	if tok.OOVToken != "" {
		oov, hasOOV = tok.WordIndex[tok.OOVToken]
	}
	var t textTokens
	known := 0
	for i, w := range words {
		id, ok := tok.WordIndex[w]
		switch {
		case ok && (tok.NumWords == 0 || id < tok.NumWords):
			known++
		case hasOOV:
			id = oov
			t.unknown = append(t.unknown, cased[i])
		default:
			t.unknown = append(t.unknown, cased[i])
			continue
		}
		t.words = append(t.words, cased[i])
		t.ids = append(t.ids, id)
	}
	if known == 0 {
		if len(words) == 0 {
			return t, fmt.Errorf("it has no words")
		}
		return t, fmt.Errorf("none of its %d words is in the model's vocabulary", len(words))
	}
	L := len(row)
	if n := len(t.ids); n > L {
		t.truncated = n - L
		if pre.Pad.Truncating == "post" {
			t.from = "end"
			t.words, t.ids = t.words[:L], t.ids[:L]
		} else {
			t.from = "start"
			t.words, t.ids = t.words[n-L:], t.ids[n-L:]
		}
	}
	if pre.Pad.Padding != "post" {
		t.at = L - len(t.ids)
	}
	for j, id := range t.ids {
		if int(row[t.at+j]) != id {
			return t, fmt.Errorf("internal: token %d (%q) has id %d but the model sees %v", j, t.words[j], id, row[t.at+j])
		}
	}
	return t, nil
}

// ExplainTexts attributes a text model's target logit (by default the
// positive class's) to each text's tokens. Texts are cleaned, tokenized
// and padded as at training; a text with no word in the vocabulary is an
// error naming its index. Safe for concurrent use.
func (m *Model) ExplainTexts(ctx context.Context, texts []string, opts ExplainOptions) ([]TextExplanation, error) {
	if m.loaded.Text == nil {
		return nil, m.wrongKind("ExplainTexts", "a text model (textcnn, lstm)")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if o.Baseline == "" {
		o.Baseline = BaselinePad
	}
	if o.Baseline != BaselinePad && o.Baseline != BaselineZeros {
		return nil, fmt.Errorf("tapeml: unknown text baseline %q (want %s or %s)", o.Baseline, BaselinePad, BaselineZeros)
	}
	pool, err := m.attribution()
	if err != nil {
		return nil, err
	}
	ids, err := m.EncodeTexts(texts)
	if err != nil {
		return nil, err
	}
	preds, err := m.ClassifyTexts(ctx, texts)
	if err != nil {
		return nil, err
	}
	mach, err := pool.get(ctx)
	if err != nil {
		return nil, err
	}
	embName := mach.EmbeddingName()
	pool.put(mach)
	table := m.loaded.Params.Get(embName + ".weight")
	if table == nil {
		return nil, fmt.Errorf("tapeml: ExplainTexts: the model has no %q table", embName+".weight")
	}
	w := table.Value.Float32s()
	vocab, dim := table.Value.Shape()[0], table.Value.Shape()[1]
	L := m.loaded.Text.Pre.MaxLen()
	padID := m.loaded.Text.Pre.Pad.Value

	out := make([]TextExplanation, len(texts))
	exs := make([]attrExample, len(texts))
	toks := make([]textTokens, len(texts))
	for i, s := range texts {
		row := ids[i*L : (i+1)*L]
		clean := m.loaded.Text.Pre.Clean.Clean(s)
		if toks[i], err = m.alignTokens(clean, row); err != nil {
			return nil, fmt.Errorf("tapeml: ExplainTexts: text %d: %w", i, err)
		}
		sel, name, sign, err := m.targetSelection(o.Target, preds[i])
		if err != nil {
			return nil, err
		}
		x, base := make([]float32, L*dim), make([]float32, L*dim)
		for j, f := range row {
			id := int(f)
			if id < 0 || id >= vocab {
				return nil, fmt.Errorf("tapeml: ExplainTexts: text %d: token id %d outside the embedding's %d rows", i, id, vocab)
			}
			copy(x[j*dim:(j+1)*dim], w[id*dim:(id+1)*dim])
			if o.Baseline == BaselinePad && padID >= 0 && padID < vocab {
				copy(base[j*dim:(j+1)*dim], w[padID*dim:(padID+1)*dim])
			}
		}
		exs[i] = attrExample{ids: row, x: x, base: base, sel: sel}
		if o.Method == MethodOcclusion {
			for j := range toks[i].ids {
				p := toks[i].at + j
				part := make([]int, dim)
				for d := range part {
					part[d] = p*dim + d
				}
				exs[i].occlude = append(exs[i].occlude, part)
			}
		}
		out[i] = TextExplanation{
			Attribution: Attribution{Method: o.Method, Baseline: o.Baseline, Prediction: preds[i], Target: name, Sign: sign},
			Text:        s, Unknown: toks[i].unknown, Truncated: toks[i].truncated, TruncatedFrom: toks[i].from,
		}
		if o.Method == MethodIG {
			out[i].Steps, out[i].Quadrature = o.Steps, o.Quadrature
		}
	}
	res, err := pool.attribute(ctx, o, exs)
	if err != nil {
		return nil, fmt.Errorf("tapeml: ExplainTexts: %w", err)
	}
	for i, r := range res {
		e, t := &out[i], toks[i]
		e.FX, e.FBaseline, e.Delta = r.fx, r.fbase, r.delta
		perPos := make([]float64, L)
		for k, v := range r.attr {
			perPos[k/dim] += v
		}
		e.Tokens = make([]TokenScore, len(t.ids))
		for j, id := range t.ids {
			score := perPos[t.at+j]
			if o.Method == MethodOcclusion {
				score = r.occlusionDrop[j]
			}
			e.Tokens[j] = TokenScore{Token: t.words[j], ID: id, Score: score}
		}
		if o.Method != MethodOcclusion {
			for p, v := range perPos {
				if p < t.at || p >= t.at+len(t.ids) {
					e.Padding += v
				}
			}
		}
	}
	return out, nil
}
