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
	L := enc.MaxLen()
	// Each text's embedding and the baseline's — padding everywhere —
	// as the model embeds them (padding: its id's row, or zeros where it
	// is a zero vector), the last one.
	rows := make([][]float32, len(texts)+1)
	for i := range texts {
		rows[i] = ids[i*L : (i+1)*L]
	}
	rows[len(texts)] = make([]float32, L)
	for j := range rows[len(texts)] {
		rows[len(texts)][j] = float32(enc.PadID())
	}
	embedded, dim, err := embedRows(ctx, pool, rows)
	if err != nil {
		return nil, err
	}
	padEmb := embedded[len(texts)]

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
		x := embedded[i]
		base := make([]float32, L*dim)
		if o.Baseline == BaselinePad {
			copy(base, padEmb)
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
		e.FX, e.FBaseline, e.Delta, e.Evaluations, e.Evaluations64, e.Jump, e.JumpAt = r.fx, r.fbase, r.delta, r.evals, r.evals64, r.jump, r.jumpAt
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

// embedRows embeds rows of ids on a machine of the pool, returning the
// embedding width too.
func embedRows(ctx context.Context, pool *attrPool, rows [][]float32) ([][]float32, int, error) {
	mach, err := pool.Get(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer pool.Put(mach)
	emb := mach.Embedded()
	if emb == nil {
		return nil, 0, fmt.Errorf("explain: Texts: the model has no embedding layer to attribute at")
	}
	out := make([][]float32, len(rows))
	for i, row := range rows {
		if out[i], err = mach.Embed(row); err != nil {
			return nil, 0, fmt.Errorf("explain: Texts: text %d: %w", i, err)
		}
	}
	return out, emb.Shape()[2], nil
}
