package textclass

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tapeml/tapeml/api"
	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/text"
	"github.com/tapeml/tapeml/textdata"
)

// Codec is a text model's family state: its run and the preprocessing it
// was trained with.
type Codec struct {
	kind string
	run  Run
	pre  *text.Preprocess
}

// Preprocess is the model's preprocessing (read-only).
func (m *Codec) Preprocess() *text.Preprocess { return m.pre }

// Run is the model's run format: its architecture and data source.
func (m *Codec) Run() Run { return m.run }

// binary reports whether the model scores one logit (a sigmoid head).
func (m *Codec) binary() bool { return len(m.pre.Classes) == 2 }

func (m *Codec) width() int {
	if m.binary() {
		return 1
	}
	return len(m.pre.Classes)
}

// Signature: texts in; the class probabilities, label and class name out,
// and how many of each text's tokens the model knows.
func (m *Codec) Signature() api.Signature {
	return api.Signature{
		Inputs: []api.TensorSpec{{Name: "text", Datatype: api.BYTES, Shape: []int64{-1}, Doc: "raw texts, UTF-8"}},
		Outputs: []api.TensorSpec{
			{Name: "probs", Datatype: api.FP32, Shape: []int64{-1, int64(len(m.pre.Classes))}, Doc: "the probability of each class, in class order"},
			{Name: "label", Datatype: api.INT32, Shape: []int64{-1}, Doc: "the predicted class's index"},
			{Name: "class", Datatype: api.BYTES, Shape: []int64{-1}, Doc: "the predicted class's name"},
			{Name: KnownTokens, Datatype: api.INT32, Shape: []int64{-1}, Doc: "how many of the text's tokens (within maxlen) the model knows; 0: no evidence, and probs is the training set's class prior"},
		},
		Groups:    [][]string{{"text"}},
		Batchable: true,
	}
}

// KnownTokens names the output that counts each text's known tokens.
const KnownTokens = "known_tokens"

// Infer classifies the texts of input "text".
func (m *Codec) Infer(ctx context.Context, net kinds.Net, inputs []api.Tensor) ([]api.Tensor, error) {
	in, err := kinds.Inputs(m.Signature(), inputs)
	if err != nil {
		return nil, err
	}
	texts := in["text"].StringsOf()
	ids, err := m.EncodeTexts(texts)
	if err != nil {
		return nil, api.Invalid(err)
	}
	logits, err := net.Forward(ctx, [][]float32{ids}, len(texts))
	if err != nil {
		return nil, err
	}
	out := kinds.PredictionTensors(m.PredictionsFor([][]float32{ids}, logits, len(texts)), len(m.pre.Classes))
	known := make([]int32, len(texts))
	L := m.pre.MaxLen()
	for i := range known {
		known[i] = int32(m.pre.Known(ids[i*L : (i+1)*L]))
	}
	return append(out, api.Tensor{Name: KnownTokens, Datatype: api.INT32, Shape: []int64{int64(len(texts))}, INT32: known}), nil
}

// Info describes the model.
func (m *Codec) Info() kinds.Info {
	lines := []string{
		fmt.Sprintf("clean: e-mail headers %s, HTML %s", keptOrDropped(m.pre.Clean.KeepHeaders), keptOrReduced(m.pre.Clean.KeepHTML)),
	}
	if w := m.pre.WordPiece; w != nil {
		cfg := w.Config()
		cased := "cased"
		if cfg.Lowercase {
			cased = "lower-cased"
		}
		lines = append(lines,
			fmt.Sprintf("tokenizer: WordPiece, %d tokens in the vocabulary (%s, id %d is %s)", len(w.Tokens()), cased, w.PadID(), cfg.Pad),
			fmt.Sprintf("%s pieces… %s, cut to %d tokens and padded after", cfg.CLS, cfg.SEP, m.pre.MaxLen()))
		if cfg.ChineseChars {
			lines[1] += "; CJK ideographs are tokens of one character"
		}
	} else {
		tok := m.pre.Tokenizer
		lines = append(lines,
			fmt.Sprintf("tokenizer: %d words in the vocabulary (id 0 is padding)", tok.VocabSize()-1),
			fmt.Sprintf("pad to %d tokens: padding %s, truncating %s", m.pre.MaxLen(), orPre(m.pre.Pad.Padding), orPre(m.pre.Pad.Truncating)))
		if tok.CJK {
			lines[1] += "; CJK ideographs are tokens of one character"
		}
	}
	if p := m.pre.Prior; p != nil {
		parts := make([]string, len(p))
		for i, v := range p {
			parts[i] = fmt.Sprintf("%s %.3f", m.pre.Classes[i], v)
		}
		lines = append(lines, "a text with no known token is answered with the training prior: "+strings.Join(parts, ", "))
	}
	pos := -1
	if m.binary() {
		pos = m.pre.Positive
	}
	return kinds.Info{
		Family:        Family.Name(),
		Classes:       slices.Clone(m.pre.Classes),
		Positive:      pos,
		Inputs:        []kinds.TensorShape{{Name: "ids", Shape: []int{m.pre.MaxLen()}}},
		Preprocessing: lines,
		Data:          []string{m.run.Data.Path},
	}
}

func keptOrDropped(keep bool) string {
	if keep {
		return "kept"
	}
	return "dropped"
}

func keptOrReduced(keep bool) string {
	if keep {
		return "kept"
	}
	return "reduced to text"
}

func orPre(s string) string {
	if s == "" {
		return "pre"
	}
	return s
}

// MaxLen is the number of token ids per text.
func (m *Codec) MaxLen() int { return m.pre.MaxLen() }

// PadID is the id of padding positions.
func (m *Codec) PadID() int { return m.pre.Pad.Value }

// Clean cleans a raw text as training did.
func (m *Codec) Clean(raw string) string { return m.pre.Clean.Clean(raw) }

// EncodeTexts cleans, tokenizes and pads raw texts as at training.
func (m *Codec) EncodeTexts(texts []string) ([]float32, error) {
	if len(texts) == 0 {
		return nil, fmt.Errorf("no texts")
	}
	clean := make([]string, len(texts))
	for i, s := range texts {
		clean[i] = m.pre.Clean.Clean(s)
	}
	return m.pre.IDs(clean)
}

// Predictions reads n rows of logits: the sigmoid of a binary logit (the
// probability of the positive class), or the softmax of N logits.
func (m *Codec) Predictions(logits []float32, n int) []api.Prediction {
	if m.binary() {
		return kinds.BinaryPredictions(logits, m.pre.Classes, m.pre.Positive)
	}
	return kinds.SoftmaxPredictions(logits, n, m.pre.Classes)
}

// PredictionsFor reads n rows of logits computed from ids (inputs[0]):
// Predictions, except that a text with no known token carries no evidence
// (NoEvidence) and is answered with the training set's class prior, when
// the checkpoint has one.
func (m *Codec) PredictionsFor(inputs [][]float32, logits []float32, n int) []api.Prediction {
	preds := m.Predictions(logits, n)
	if len(inputs) == 0 {
		return preds
	}
	L := m.pre.MaxLen()
	for i := range preds {
		if len(inputs[0]) < (i+1)*L || m.pre.Known(inputs[0][i*L:(i+1)*L]) > 0 {
			continue
		}
		preds[i].NoEvidence = true
		if m.pre.Prior != nil {
			preds[i] = m.priorPrediction()
		}
	}
	return preds
}

// priorPrediction is the answer without evidence: the class prior, read
// as a prediction (the positive class at ≥ 0.5 for two classes, else the
// most frequent class).
func (m *Codec) priorPrediction() api.Prediction {
	probs := make([]float32, len(m.pre.Prior))
	for i, v := range m.pre.Prior {
		probs[i] = float32(v)
	}
	label := 0
	for j, v := range probs {
		if v > probs[label] {
			label = j
		}
	}
	if m.binary() {
		label = 1 - m.pre.Positive
		if probs[m.pre.Positive] >= 0.5 {
			label = m.pre.Positive
		}
	}
	return api.Prediction{Label: label, Class: m.pre.Classes[label], Prob: probs[label], Probs: probs, NoEvidence: true}
}

// Target resolves the class an explanation scores.
func (m *Codec) Target(target string, pred api.Prediction) ([]float32, string, float64, error) {
	if m.binary() {
		return kinds.BinaryTarget(target, m.pre.Classes, m.pre.Positive)
	}
	return kinds.SoftmaxTarget(target, pred, m.pre.Classes)
}

// Tokens aligns a cleaned text's words with the row of ids the model
// sees: which words it holds, where, and what was dropped or cut.
func (m *Codec) Tokens(clean string, row []float32) (kinds.Encoding, error) {
	pre := m.pre
	if pre.WordPiece != nil {
		return m.pieces(clean, row)
	}
	tok := pre.Tokenizer
	words := tok.Words(clean)
	// The same split without lower-casing gives the words as written;
	// lower-casing never adds or removes a separator, but if the counts
	// differ the lower-cased words are shown.
	cfg := tok.Config()
	cfg.KeepCase = true
	cased := text.WordSequence(clean, cfg)
	if len(cased) != len(words) {
		cased = words
	}
	oov, hasOOV := 0, false
	if tok.OOVToken != "" {
		oov, hasOOV = tok.WordIndex[tok.OOVToken]
	}
	var e kinds.Encoding
	var seen []string
	var ids []int
	known := 0
	for i, w := range words {
		id, ok := tok.WordIndex[w]
		switch {
		case ok && (tok.NumWords == 0 || id < tok.NumWords):
			known++
		case hasOOV:
			id = oov
			e.Unknown = append(e.Unknown, cased[i])
		default:
			e.Unknown = append(e.Unknown, cased[i])
			continue
		}
		seen = append(seen, cased[i])
		ids = append(ids, id)
	}
	if known == 0 {
		if len(words) == 0 {
			return e, fmt.Errorf("it has no words")
		}
		return e, fmt.Errorf("none of its %d words is in the model's vocabulary", len(words))
	}
	L := len(row)
	if n := len(ids); n > L {
		index := make([]int, n)
		for j := range index {
			index[j] = j
		}
		kept, cut := text.Truncate(index, L, pre.Pad.Truncating)
		e.Truncated = cut
		switch pre.Pad.Truncating {
		case "post":
			e.TruncatedFrom = "end"
		case text.HeadTail:
			e.TruncatedFrom = "middle"
		default:
			e.TruncatedFrom = "start"
		}
		keptSeen, keptIDs := make([]string, len(kept)), make([]int, len(kept))
		for j, k := range kept {
			keptSeen[j], keptIDs[j] = seen[k], ids[k]
		}
		seen, ids = keptSeen, keptIDs
	}
	at := 0
	if pre.Pad.Padding != "post" {
		at = L - len(ids)
	}
	for j, id := range ids {
		if int(row[at+j]) != id {
			return e, fmt.Errorf("internal: token %d (%q) has id %d but the model sees %v", j, seen[j], id, row[at+j])
		}
		e.Tokens = append(e.Tokens, kinds.Token{Text: seen[j], ID: id, Position: at + j})
	}
	return e, nil
}

// Evaluate scores the model on the test split of its run's data, or on
// other data with the same classes: its test split if it ships one, else
// all of it (kinds.EvalSplit).
func (m *Codec) Evaluate(ctx context.Context, net kinds.Net, opt kinds.EvalOptions) (*kinds.EvalReport, error) {
	src := m.run.Data
	if opt.Data != "" {
		src.Path = opt.Data
	}
	if opt.SplitSeed != nil {
		src.Options.Seed = *opt.SplitSeed
	}
	corpus, err := src.Load()
	if err != nil {
		return nil, err
	}
	split, examples := kinds.EvalSplit(opt, m.run.Data.Path, corpus.TestGiven), corpus.Test
	if split == kinds.SplitAll {
		examples = slices.Concat(corpus.Train, corpus.Val, corpus.Test)
	}
	if len(examples) == 0 {
		return nil, fmt.Errorf("data %s has no examples to score (%s)", src.Path, split)
	}
	if !slices.Equal(corpus.Classes, m.pre.Classes) {
		return nil, fmt.Errorf("data %s has classes %v, the model was trained on %v", src.Path, corpus.Classes, m.pre.Classes)
	}
	ds, err := Dataset(m.pre, examples)
	if err != nil {
		return nil, err
	}
	positive := -1
	if m.binary() {
		positive = m.pre.Positive
	}
	r, err := kinds.EvaluateClassifier(ctx, net, ds, m.pre.Classes, positive, opt.Batch)
	if err != nil {
		return nil, err
	}
	r.Data, r.Split, r.Rows = src.Path, split, len(corpus.Train)+len(corpus.Val)+len(corpus.Test)
	for _, ex := range corpus.Test {
		r.Sources = append(r.Sources, ex.Source)
	}
	return r, nil
}

// Splits encodes the run's corpus, as training split it.
func (m *Codec) Splits(ctx context.Context) (train, val, test dataset.Dataset, err error) {
	corpus, err := m.run.Data.Load()
	if err != nil {
		return nil, nil, nil, err
	}
	var out [3]dataset.Dataset
	for i, part := range [][]textdata.TextExample{corpus.Train, corpus.Val, corpus.Test} {
		if len(part) == 0 {
			continue
		}
		if out[i], err = Dataset(m.pre, part); err != nil {
			return nil, nil, nil, err
		}
	}
	return out[0], out[1], out[2], nil
}

// TestSample returns the first n texts of the run's test split, with
// their classes.
func (m *Codec) TestSample(ctx context.Context, n int) ([]api.Tensor, []string, error) {
	corpus, err := m.run.Data.Load()
	if err != nil {
		return nil, nil, err
	}
	exs := corpus.Test[:min(n, len(corpus.Test))]
	texts, labels := make([]string, len(exs)), make([]string, len(exs))
	for i, ex := range exs {
		texts[i], labels[i] = ex.Text, corpus.Classes[ex.Label]
	}
	return []api.Tensor{api.Strings("text", texts)}, labels, nil
}

// pieces is Tokens for a WordPiece model: the pieces of the text after
// [CLS], those past maxlen−2 cut from its end.
func (m *Codec) pieces(clean string, row []float32) (kinds.Encoding, error) {
	w := m.pre.WordPiece
	var e kinds.Encoding
	pieces := w.Tokenize(clean)
	if len(pieces) == 0 {
		return e, fmt.Errorf("it has no words")
	}
	if n := len(row) - 2; len(pieces) > n {
		e.Truncated, e.TruncatedFrom = len(pieces)-n, "end"
		pieces = pieces[:n]
	}
	known := 0
	for j, p := range pieces {
		id, ok := w.ID(p)
		if !ok || id == w.UNKID() {
			id = w.UNKID()
			e.Unknown = append(e.Unknown, p)
		} else {
			known++
		}
		if int(row[1+j]) != id {
			return e, fmt.Errorf("internal: piece %d (%q) has id %d but the model sees %v", j, p, id, row[1+j])
		}
		e.Tokens = append(e.Tokens, kinds.Token{Text: p, ID: id, Position: 1 + j})
	}
	if known == 0 {
		return e, fmt.Errorf("none of its %d pieces is in the model's vocabulary", len(pieces))
	}
	return e, nil
}
