package explain

import (
	"context"
	"fmt"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/kinds"
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

// Texts attributes a text model's target logit (by default the positive
// class's) to each text's tokens. Texts are cleaned, tokenized and padded
// as at training; a text with no word in the vocabulary is an error naming
// its index. Safe for concurrent use.
func Texts(ctx context.Context, tm *tapeml.Model, texts []string, opts Options) ([]TextExplanation, error) {
	if err := checkContext(ctx, "Texts"); err != nil {
		return nil, err
	}
	m := unwrap(tm)
	enc, ok := m.c.Loaded.Codec.(kinds.TextEncoder)
	if !ok {
		return nil, m.wrongKind("Texts", "a text model (textcnn, lstm)")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if o.Baseline == "" {
		o.Baseline = BaselinePad
	}
	if o.Baseline != BaselinePad && o.Baseline != BaselineZeros {
		return nil, fmt.Errorf("explain: unknown text baseline %q (want %s or %s)", o.Baseline, BaselinePad, BaselineZeros)
	}
	if o.SmoothGrad > 0 {
		return nil, fmt.Errorf("explain: SmoothGrad adds noise to images; a text's tokens take none")
	}
	pool, err := m.attribution()
	if err != nil {
		return nil, err
	}
	ids, err := tm.EncodeTexts(texts)
	if err != nil {
		return nil, err
	}
	preds, err := tm.ClassifyTexts(ctx, texts)
	if err != nil {
		return nil, err
	}
	mach, err := pool.Get(ctx)
	if err != nil {
		return nil, err
	}
	embName := mach.EmbeddingName()
	pool.Put(mach)
	table := m.c.Loaded.Params.Get(embName + ".weight")
	if table == nil {
		return nil, fmt.Errorf("explain: Texts: the model has no %q table", embName+".weight")
	}
	w := table.Value.Float32s()
	vocab, dim := table.Value.Shape()[0], table.Value.Shape()[1]
	L := enc.MaxLen()
	padID := enc.PadID()

	out := make([]TextExplanation, len(texts))
	exs := make([]attrExample, len(texts))
	toks := make([]kinds.Encoding, len(texts))
	for i, s := range texts {
		row := ids[i*L : (i+1)*L]
		if toks[i], err = enc.Tokens(enc.Clean(s), row); err != nil {
			return nil, fmt.Errorf("explain: Texts: text %d: %w", i, err)
		}
		sel, name, sign, err := m.target(o.Target, preds[i])
		if err != nil {
			return nil, err
		}
		x, base := make([]float32, L*dim), make([]float32, L*dim)
		for j, f := range row {
			id := int(f)
			if id < 0 || id >= vocab {
				return nil, fmt.Errorf("explain: Texts: text %d: token id %d outside the embedding's %d rows", i, id, vocab)
			}
			copy(x[j*dim:(j+1)*dim], w[id*dim:(id+1)*dim])
			if o.Baseline == BaselinePad && padID >= 0 && padID < vocab {
				copy(base[j*dim:(j+1)*dim], w[padID*dim:(padID+1)*dim])
			}
		}
		exs[i] = attrExample{ids: row, x: x, base: base, sel: sel}
		if o.Method == MethodOcclusion {
			for _, tok := range toks[i].Tokens {
				p := tok.Position
				part := make([]int, dim)
				for d := range part {
					part[d] = p*dim + d
				}
				exs[i].occlude = append(exs[i].occlude, part)
			}
		}
		out[i] = TextExplanation{
			Attribution: Attribution{Method: o.Method, Baseline: o.Baseline, Prediction: preds[i], Target: name, Sign: sign},
			Text:        s, Unknown: toks[i].Unknown, Truncated: toks[i].Truncated, TruncatedFrom: toks[i].TruncatedFrom,
		}
		out[i].Attribution.describe(o)
	}
	res, err := pool.attribute(ctx, o, exs)
	if err != nil {
		return nil, fmt.Errorf("explain: Texts: %w", err)
	}
	for i, r := range res {
		e, t := &out[i], toks[i]
		e.FX, e.FBaseline, e.Delta, e.Evaluations, e.Jump, e.JumpAt = r.fx, r.fbase, r.delta, r.evals, r.jump, r.jumpAt
		perPos := make([]float64, L)
		for k, v := range r.attr {
			perPos[k/dim] += v
		}
		e.Tokens = make([]TokenScore, len(t.Tokens))
		held := make([]bool, L)
		for j, tok := range t.Tokens {
			score := perPos[tok.Position]
			if o.Method == MethodOcclusion {
				score = r.occlusionDrop[j]
			}
			e.Tokens[j] = TokenScore{Token: tok.Text, ID: tok.ID, Score: score}
			held[tok.Position] = true
		}
		if o.Method != MethodOcclusion {
			for p, v := range perPos {
				if !held[p] {
					e.Padding += v
				}
			}
		}
	}
	return out, nil
}
