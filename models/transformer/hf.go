package transformer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/internal/safeio"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/text"
	"github.com/tapeml/tapeml/textclass"
)

func init() { kinds.RegisterFolderImporter("hf", ImportHF) }

// hfConfig is what ImportHF reads of a Hugging Face config.json.
type hfConfig struct {
	Architectures         []string          `json:"architectures"`
	ModelType             string            `json:"model_type"`
	VocabSize             int               `json:"vocab_size"`
	HiddenSize            int               `json:"hidden_size"`
	NumHiddenLayers       int               `json:"num_hidden_layers"`
	NumAttentionHeads     int               `json:"num_attention_heads"`
	IntermediateSize      int               `json:"intermediate_size"`
	HiddenAct             string            `json:"hidden_act"`
	HiddenDropout         float64           `json:"hidden_dropout_prob"`
	AttnDropout           float64           `json:"attention_probs_dropout_prob"`
	MaxPositionEmbeddings int               `json:"max_position_embeddings"`
	TypeVocabSize         int               `json:"type_vocab_size"`
	LayerNormEps          float64           `json:"layer_norm_eps"`
	PadTokenID            *int              `json:"pad_token_id"`
	PositionEmbeddingType string            `json:"position_embedding_type"`
	ID2Label              map[string]string `json:"id2label"`
	NumLabels             int               `json:"num_labels"`
	InitializerRange      float64           `json:"initializer_range"`
	raw                   json.RawMessage   // the whole file, for other architectures' fields
}

// maxHFJSON bounds config.json and tokenizer_config.json.
const maxHFJSON = 1 << 20

// ImportHF reads a Hugging Face BertForSequenceClassification, BertModel
// or DistilBertForSequenceClassification folder —
// config.json, model.safetensors, vocab.txt (or tokenizer.json), optional
// tokenizer_config.json — into a weights-only transformer checkpoint whose
// preprocessing is the folder's WordPiece tokenizer (do_lower_case,
// strip_accents, tokenize_chinese_chars), texts cut to
// tokenizer_config.json's model_max_length pieces, or
// max_position_embeddings. Every tensor is mapped by name; a
// missing or unexpected tensor, a wrong shape, a non-float32 or non-finite
// weight, a vocabulary that disagrees with the embedding rows or an
// architecture other than these is an error naming it, found before the
// model is allocated (the configuration's sizes are bounded by Validate
// first). A BertModel gets a new classifier, initialized as BERT's, for
// its labels (two, LABEL_0 and LABEL_1, unless config.json names them):
// a model to fine-tune (train transformer --init). A two-label classifier becomes
// the binary head's one logit, the difference of the two (sigmoid of it
// is the softmax's second probability); "…embeddings.position_ids", a
// buffer older releases saved, is left out. DistilBERT is BERT without
// token types whose pooler is pre_classifier with a ReLU; its tensors are
// renamed to BERT's.
func ImportHF(dir string) (*checkpoint.Checkpoint, error) {
	var hc hfConfig
	if err := readJSON(filepath.Join(dir, "config.json"), &hc.raw); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(hc.raw, &hc); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "config.json"), err)
	}
	cfgName := filepath.Join(dir, "config.json")
	var arch string
	if len(hc.Architectures) == 1 {
		arch = hc.Architectures[0]
	}
	names, ok := hfNamings[arch]
	if !ok {
		return nil, fmt.Errorf("%s: architectures %q: tapeml imports BertForSequenceClassification, BertModel and DistilBertForSequenceClassification", cfgName, hc.Architectures)
	}
	// BertModel is the encoder alone: the classifier is new.
	encoderOnly := arch == "BertModel"
	distil := arch == "DistilBertForSequenceClassification"
	if distil {
		if err := hc.distil(); err != nil {
			return nil, fmt.Errorf("%s: %w", cfgName, err)
		}
	}
	switch {
	case !distil && hc.ModelType != "bert":
		return nil, fmt.Errorf("%s: model_type %q: want bert", cfgName, hc.ModelType)
	case hc.HiddenAct != "gelu":
		return nil, fmt.Errorf("%s: hidden_act %q: tapeml's encoder has the exact GELU, \"gelu\"", cfgName, hc.HiddenAct)
	case hc.PositionEmbeddingType != "" && hc.PositionEmbeddingType != "absolute":
		return nil, fmt.Errorf("%s: position_embedding_type %q: tapeml's encoder has absolute positions", cfgName, hc.PositionEmbeddingType)
	case hc.PadTokenID != nil && *hc.PadTokenID != 0:
		return nil, fmt.Errorf("%s: pad_token_id %d: tapeml's text models pad with id 0", cfgName, *hc.PadTokenID)
	}
	classes, err := hc.labels()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfgName, err)
	}
	eps := hc.LayerNormEps
	if eps == 0 {
		eps = 1e-12
	}
	cfg := Config{VocabSize: hc.VocabSize, MaxLen: hc.MaxPositionEmbeddings, MaxPosition: hc.MaxPositionEmbeddings,
		TypeVocab: hc.TypeVocabSize, DModel: hc.HiddenSize, Layers: hc.NumHiddenLayers, Heads: hc.NumAttentionHeads,
		FFN: hc.IntermediateSize, Dropout: hc.HiddenDropout, AttnDropout: hc.AttnDropout, Eps: eps,
		Norm: PostLN, Pooling: CLS, Head: textclass.Head{Classes: len(classes)}}
	if hc.InitializerRange > 0 && hc.InitializerRange < 1 { // else BERT's 0.02: a training setting, no reason to refuse the weights
		cfg.InitStd = hc.InitializerRange
	}
	if distil {
		cfg.PoolerAct = "relu"
	}

	wp := text.DefaultWordPieceConfig()
	var tc struct {
		DoLowerCase  *bool   `json:"do_lower_case"`
		StripAccents *bool   `json:"strip_accents"` // null: as do_lower_case
		ChineseChars *bool   `json:"tokenize_chinese_chars"`
		MaxLength    float64 `json:"model_max_length"` // 1e30 when the tokenizer does not know
	}
	if err := readJSON(filepath.Join(dir, "tokenizer_config.json"), &tc); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if tc.DoLowerCase != nil {
		wp.Lowercase = *tc.DoLowerCase
	}
	if tc.StripAccents != nil {
		wp.Accents = text.AccentsKeep
		if *tc.StripAccents {
			wp.Accents = text.AccentsStrip
		}
	}
	if tc.ChineseChars != nil {
		wp.ChineseChars = *tc.ChineseChars
	}
	if tc.MaxLength >= 2 && tc.MaxLength < float64(cfg.MaxPosition) {
		cfg.MaxLen = int(tc.MaxLength) // the tokenizer cuts texts shorter than the positions allow
	}
	vocab, err := text.ReadVocab(filepath.Join(dir, "vocab.txt"))
	if errors.Is(err, fs.ErrNotExist) {
		vocab, wp, err = text.ReadTokenizerJSON(filepath.Join(dir, "tokenizer.json"))
	}
	if err != nil {
		return nil, err
	}
	cfg.Lowercase = wp.Lowercase
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", cfgName, err)
	}
	if len(vocab) != cfg.VocabSize {
		return nil, fmt.Errorf("%s: the vocabulary has %d tokens, config.json's vocab_size (the word embedding's rows) is %d", dir, len(vocab), cfg.VocabSize)
	}
	tok, err := text.NewWordPiece(vocab, wp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	if tok.PadID() != 0 {
		return nil, fmt.Errorf("%s: the vocabulary's %s is id %d: tapeml's text models pad with id 0", dir, wp.Pad, tok.PadID())
	}

	// The weights: names and shapes against the configuration's, then
	// values, before anything of the model's size is allocated.
	wpath := filepath.Join(dir, "model.safetensors")
	f, err := safetensors.ReadFile(wpath)
	if err != nil {
		return nil, err
	}
	ts := slices.DeleteFunc(slices.Clone(f.Tensors), func(t safetensors.Tensor) bool {
		return strings.HasSuffix(t.Name, "embeddings.position_ids")
	})
	specs := cfg.ParamSpecs()
	head := specs[len(specs)-2:]
	specs = specs[: len(specs)-2 : len(specs)-2]
	if !encoderOnly { // Hugging Face's head has a logit per label, two for two
		specs = append(specs, graph.ParamSpec{Name: "classifier.weight", Shape: []int{len(classes), cfg.DModel}},
			graph.ParamSpec{Name: "classifier.bias", Shape: []int{len(classes)}})
	}
	// Compare under the file's names, so that errors name its tensors, then
	// rename to tapeml's.
	ours := make(map[string]string, len(specs))
	theirs := make([]graph.ParamSpec, len(specs))
	for i, sp := range specs {
		theirs[i] = graph.ParamSpec{Name: names(sp.Name), Shape: sp.Shape}
		ours[theirs[i].Name] = sp.Name
	}
	if err := checkpoint.CheckShapes(theirs, ts, wpath); err != nil {
		return nil, err
	}
	for i := range ts {
		ts[i].Name = ours[ts[i].Name]
	}
	for _, t := range ts {
		if t.Dtype != "F32" {
			return nil, fmt.Errorf("%s: tensor %q is %s: tapeml imports float32 weights (save with torch_dtype float32)", wpath, t.Name, t.Dtype)
		}
	}
	if err := safetensors.CheckFinite(ts); err != nil {
		return nil, fmt.Errorf("%s: %w", wpath, err)
	}
	switch {
	case encoderOnly:
		ts = append(ts, freshClassifier(head, cfg.InitStd, importSeed)...)
	case cfg.Head.Binary():
		if ts, err = binaryClassifier(ts); err != nil {
			return nil, fmt.Errorf("%s: %w", wpath, err)
		}
	}
	m, err := New(cfg)
	if err != nil {
		return nil, err
	}
	params := graph.NewParams(tensor.Float32, 0)
	if err := graph.Materialize(m.Build, params); err != nil {
		return nil, fmt.Errorf("%s: building the model: %w", dir, err)
	}
	if err := checkpoint.LoadWeights(params, ts, wpath); err != nil {
		return nil, err
	}

	positive := -1
	if len(classes) == 2 {
		positive = 1
	}
	pre := text.NewWordPiecePreprocess(tok, text.CleanOptions{}, cfg.MaxLen, classes, positive, nil)
	archJSON, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	run, err := json.Marshal(textclass.Run{Model: archJSON})
	if err != nil {
		return nil, err
	}
	preJSON, err := json.Marshal(pre)
	if err != nil {
		return nil, err
	}
	return &checkpoint.Checkpoint{
		Meta:    checkpoint.Meta{ModelKind: Kind, ModelConfig: run, Preprocessing: preJSON, WeightsOnly: true},
		Weights: checkpoint.Weights(params),
	}, nil
}

// importSeed seeds a BertModel import's fresh classifier: an import is
// reproducible.
const importSeed = 20261206

// hfNamings gives, per architecture, the file's name of each of tapeml's
// parameters (which are BertForSequenceClassification's).
var hfNamings = map[string]func(string) string{
	"BertForSequenceClassification": func(s string) string { return s },
	"BertModel":                     func(s string) string { return strings.TrimPrefix(s, "bert.") },
	"DistilBertForSequenceClassification": strings.NewReplacer(
		"bert.embeddings.", "distilbert.embeddings.",
		"bert.encoder.layer.", "distilbert.transformer.layer.",
		"attention.self.query", "attention.q_lin",
		"attention.self.key", "attention.k_lin",
		"attention.self.value", "attention.v_lin",
		"attention.output.dense", "attention.out_lin",
		"attention.output.LayerNorm", "sa_layer_norm",
		"intermediate.dense", "ffn.lin1",
		"output.dense", "ffn.lin2",
		"output.LayerNorm", "output_layer_norm",
		"bert.pooler.dense", "pre_classifier",
	).Replace,
}

// distil reads a DistilBertConfig's fields into BERT's: dim, n_layers,
// n_heads, hidden_dim, dropout, attention_dropout, activation; no token
// types, LayerNorm eps 1e-12 (fixed in modeling_distilbert.py); learned
// positions only.
func (hc *hfConfig) distil() error {
	var d struct {
		ModelType   string  `json:"-"`
		Dim         int     `json:"dim"`
		NLayers     int     `json:"n_layers"`
		NHeads      int     `json:"n_heads"`
		HiddenDim   int     `json:"hidden_dim"`
		Dropout     float64 `json:"dropout"`
		AttnDropout float64 `json:"attention_dropout"`
		Activation  string  `json:"activation"`
		Sinusoidal  bool    `json:"sinusoidal_pos_embds"`
	}
	if err := json.Unmarshal(hc.raw, &d); err != nil {
		return err
	}
	switch {
	case hc.ModelType != "distilbert":
		return fmt.Errorf("model_type %q: want distilbert", hc.ModelType)
	case d.Sinusoidal:
		return fmt.Errorf("sinusoidal_pos_embds true: tapeml's encoder has learned positions")
	}
	hc.HiddenSize, hc.NumHiddenLayers, hc.NumAttentionHeads, hc.IntermediateSize = d.Dim, d.NLayers, d.NHeads, d.HiddenDim
	hc.HiddenDropout, hc.AttnDropout, hc.HiddenAct = d.Dropout, d.AttnDropout, d.Activation
	hc.TypeVocabSize, hc.LayerNormEps = 0, 1e-12
	return nil
}

// labels returns the class names in id order: id2label's, or LABEL_i for
// num_labels (default 2, as PretrainedConfig).
func (hc hfConfig) labels() ([]string, error) {
	n := len(hc.ID2Label)
	if n == 0 {
		n = hc.NumLabels
		if n == 0 {
			n = 2
		}
		if n < 2 || n > textclass.MaxClasses {
			return nil, fmt.Errorf("num_labels %d: want 2 to %d", n, textclass.MaxClasses)
		}
		out := make([]string, n)
		for i := range out {
			out[i] = "LABEL_" + strconv.Itoa(i)
		}
		return out, nil
	}
	if n < 2 || n > textclass.MaxClasses {
		return nil, fmt.Errorf("id2label has %d labels: want 2 to %d", n, textclass.MaxClasses)
	}
	out := make([]string, n)
	for i := range out {
		l, ok := hc.ID2Label[strconv.Itoa(i)]
		if !ok {
			return nil, fmt.Errorf("id2label has no label %d (want ids 0 to %d)", i, n-1)
		}
		out[i] = l
	}
	return out, nil
}

// freshClassifier is a new classifier of the head's shapes, initialized
// as BERT's _init_weights does: weights N(0, std) (std
// initializer_range, default 0.02), biases 0; seeded, so that an import
// or a run is reproducible.
func freshClassifier(head []graph.ParamSpec, std float64, seed uint64) []safetensors.Tensor {
	if !(std > 0 && std < 1) {
		std = 0.02
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]safetensors.Tensor, len(head))
	for i, s := range head {
		v := make([]float32, graph.SpecNumel([]graph.ParamSpec{s}))
		if strings.HasSuffix(s.Name, ".weight") {
			for j := range v {
				v[j] = float32(rng.NormFloat64() * std)
			}
		}
		out[i] = safetensors.F32(s.Name, s.Shape, v)
	}
	return out
}

// binaryClassifier replaces a two-logit classifier by one logit, z₁ − z₀:
// its weight rows and biases subtracted.
func binaryClassifier(ts []safetensors.Tensor) ([]safetensors.Tensor, error) {
	out := slices.Clone(ts)
	for i, t := range out {
		if t.Name != "classifier.weight" && t.Name != "classifier.bias" {
			continue
		}
		v, err := t.Float32s()
		if err != nil {
			return nil, err
		}
		half := len(v) / 2
		d := make([]float32, half)
		for j := range d {
			d[j] = v[half+j] - v[j]
		}
		shape := slices.Clone(t.Shape)
		shape[0] = 1
		out[i] = safetensors.F32(t.Name, shape, d)
	}
	return out, nil
}

// readJSON reads a small JSON file, bounded, into v; errors name it.
func readJSON(path string, v any) error {
	b, err := safeio.ReadFile(path, maxHFJSON)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: %w", path, os.ErrNotExist)
		}
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
