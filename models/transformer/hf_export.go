package transformer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/text"
)

// The files of a Hugging Face model folder that HF writes and ImportHF
// reads.
const (
	HFConfig          = "config.json"
	HFWeights         = "model.safetensors"
	HFVocab           = "vocab.txt"
	HFTokenizerConfig = "tokenizer_config.json"
)

// HF is the model as a Hugging Face model folder, for export --format hf:
// the tensors of model.safetensors under Hugging Face's names and the
// other files (config.json, vocab.txt, tokenizer_config.json), from the
// weights and the checkpoint's preprocessing (a WordPiece vocabulary; one
// learned from the training texts with fewer pieces than vocab_size is
// filled up with "[unusedI]" tokens, as BERT's has them).
//
// The architecture is BertForSequenceClassification, or
// DistilBertForSequenceClassification for a model with DistilBERT's
// pooler (an imported DistilBERT: ReLU pre_classifier, no token types),
// which get DistilBERT's names and config fields back. Hugging Face's
// classifiers pool [CLS] through the pooler after post-LN layers: a model
// trained with mean pooling or pre-LN has no such form and is an error
// naming the setting. A binary model's one logit z (the positive class's)
// becomes the two logits (0, z) in class order, whose softmax is the
// sigmoid's probabilities. What the tapeml model does before tokenizing
// (e-mail headers and HTML removed, text.CleanOptions) is not part of a
// Hugging Face tokenizer.
func (c Config) HF(weights []safetensors.Tensor, preprocessing []byte) ([]safetensors.Tensor, map[string][]byte, error) {
	distil := c.PoolerAct == "relu"
	switch {
	case c.Pooling != CLS:
		return nil, nil, fmt.Errorf("pooling %q: Hugging Face's BertForSequenceClassification reads [CLS] through its pooler (train with pooling %q)", c.Pooling, CLS)
	case c.Norm != PostLN:
		return nil, nil, fmt.Errorf("norm %q: BERT's layers normalize after each residual (norm %q)", c.Norm, PostLN)
	case distil && c.TypeVocab != 0:
		return nil, nil, fmt.Errorf("pooler_act relu with type_vocab_size %d: DistilBERT, whose pooler this is, has no token types", c.TypeVocab)
	case distil && c.Eps != 1e-12:
		return nil, nil, fmt.Errorf("layer_norm_eps %g: DistilBERT's is 1e-12", c.Eps)
	case !distil && c.TypeVocab < 1:
		return nil, nil, fmt.Errorf("type_vocab_size 0: BERT embeds token type 0 of every text (DistilBERT, which has none, pools with pooler_act relu)")
	}
	var pre text.Preprocess
	if err := json.Unmarshal(preprocessing, &pre); err != nil {
		return nil, nil, fmt.Errorf("preprocessing: %w", err)
	}
	if pre.WordPiece == nil || pre.WordPiece.WordPiece == nil {
		return nil, nil, fmt.Errorf("preprocessing has no WordPiece vocabulary")
	}
	wp := pre.WordPiece.Config()
	vocab := pre.WordPiece.Tokens()
	switch {
	case len(vocab) > c.VocabSize:
		return nil, nil, fmt.Errorf("the vocabulary has %d tokens, the word embedding only %d rows", len(vocab), c.VocabSize)
	case pre.WordPiece.PadID() != 0:
		return nil, nil, fmt.Errorf("the vocabulary's %s is id %d: Hugging Face's pad_token_id is 0 here", wp.Pad, pre.WordPiece.PadID())
	case !wp.CleanText:
		return nil, nil, fmt.Errorf("clean_text false: BertTokenizer always drops control characters")
	case wp.MaxCharsPerWord != 100:
		return nil, nil, fmt.Errorf("max_input_chars_per_word %d: BertTokenizer's is 100", wp.MaxCharsPerWord)
	case len(pre.Classes) != c.NumClasses():
		return nil, nil, fmt.Errorf("preprocessing has %d classes, the model %d", len(pre.Classes), c.NumClasses())
	case pre.Pad.MaxLen < 2 || pre.Pad.MaxLen > c.MaxPosition:
		return nil, nil, fmt.Errorf("preprocessing maxlen %d: want 2 to max_position_embeddings %d", pre.Pad.MaxLen, c.MaxPosition)
	}
	if err := checkpoint.CheckShapes(c.ParamSpecs(), weights, "checkpoint"); err != nil {
		return nil, nil, err
	}

	arch := "BertForSequenceClassification"
	if distil {
		arch = "DistilBertForSequenceClassification"
	}
	name := hfNamings[arch]
	byName := make(map[string]safetensors.Tensor, len(weights))
	for _, t := range weights {
		byName[t.Name] = t
	}
	specs := c.ParamSpecs()
	out := make([]safetensors.Tensor, 0, len(specs))
	for _, s := range specs {
		t := byName[s.Name]
		if t.Dtype != "F32" {
			return nil, nil, fmt.Errorf("tensor %q is %s: a Hugging Face export writes float32", t.Name, t.Dtype)
		}
		if c.Head.Binary() && strings.HasPrefix(s.Name, "classifier.") {
			var err error
			if t, err = twoLogits(t, pre.Positive); err != nil {
				return nil, nil, err
			}
		}
		t.Name = name(s.Name)
		out = append(out, t)
	}

	id2label := make(map[string]string, len(pre.Classes))
	label2id := make(map[string]int, len(pre.Classes))
	for i, l := range pre.Classes {
		id2label[strconv.Itoa(i)] = l
		label2id[l] = i
	}
	std := c.InitStd
	if std == 0 {
		std = 0.02
	}
	var cfg any
	if distil {
		cfg = distilBertJSON{VocabSize: c.VocabSize, MaxPosition: c.MaxPosition, Layers: c.Layers, Heads: c.Heads,
			Dim: c.DModel, HiddenDim: c.FFN, Dropout: c.Dropout, AttnDropout: c.AttnDropout, Activation: "gelu",
			InitializerRange: std, SeqClassifDropout: c.Dropout, Architectures: []string{arch}, ModelType: "distilbert",
			ID2Label: id2label, Label2ID: label2id, TorchDtype: "float32"}
	} else {
		cfg = bertJSON{Architectures: []string{arch}, ModelType: "bert", VocabSize: c.VocabSize, HiddenSize: c.DModel,
			Layers: c.Layers, Heads: c.Heads, FFN: c.FFN, HiddenAct: "gelu", HiddenDropout: c.Dropout,
			AttnDropout: c.AttnDropout, MaxPosition: c.MaxPosition, TypeVocab: c.TypeVocab, InitializerRange: std,
			LayerNormEps: c.Eps, PositionEmbeddingType: "absolute", ID2Label: id2label, Label2ID: label2id,
			TorchDtype: "float32"}
	}
	tokClass := "BertTokenizer"
	if distil {
		tokClass = "DistilBertTokenizer"
	}
	var strip *bool // null: as do_lower_case
	if wp.Accents != text.AccentsDefault {
		s := wp.Accents == text.AccentsStrip
		strip = &s
	}
	tok := tokenizerJSON{DoLowerCase: wp.Lowercase, StripAccents: strip, ChineseChars: wp.ChineseChars,
		UNK: wp.UNK, SEP: wp.SEP, Pad: wp.Pad, CLS: wp.CLS, Mask: wp.Mask, ModelMaxLength: pre.Pad.MaxLen,
		TokenizerClass: tokClass}
	files := map[string][]byte{HFVocab: []byte(strings.Join(padVocab(vocab, c.VocabSize), "\n") + "\n")}
	for file, v := range map[string]any{HFConfig: cfg, HFTokenizerConfig: tok} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return nil, nil, err
		}
		files[file] = b.Bytes()
	}
	return out, files, nil
}

// padVocab fills a vocabulary learned from the training texts, which may
// have fewer pieces than the embedding's rows (--vocab-size), up to n
// with BERT's "[unusedI]" tokens: vocab.txt then has vocab_size lines, as
// Hugging Face's and tapeml's importers want, and no text reaches the
// new ids (the basic tokenizer splits "[" and "]" off every word).
func padVocab(vocab []string, n int) []string {
	if len(vocab) >= n {
		return vocab
	}
	have := make(map[string]bool, n)
	for _, t := range vocab {
		have[t] = true
	}
	out := slices.Clip(slices.Clone(vocab))
	for i := 0; len(out) < n; i++ {
		if t := "[unused" + strconv.Itoa(i) + "]"; !have[t] {
			out = append(out, t)
		}
	}
	return out
}

// twoLogits turns the binary head's classifier tensor (one logit, the
// positive class's) into Hugging Face's two: the positive class's row
// holds it, the other zeros.
func twoLogits(t safetensors.Tensor, positive int) (safetensors.Tensor, error) {
	v, err := t.Float32s()
	if err != nil {
		return t, err
	}
	two := make([]float32, 2*len(v))
	if positive == 0 {
		copy(two, v)
	} else {
		copy(two[len(v):], v)
	}
	shape := slices.Clone(t.Shape)
	shape[0] = 2
	return safetensors.F32(t.Name, shape, two), nil
}

// bertJSON is a BertForSequenceClassification's config.json, in the order
// save_pretrained writes the fields tapeml sets.
type bertJSON struct {
	Architectures         []string          `json:"architectures"`
	ModelType             string            `json:"model_type"`
	VocabSize             int               `json:"vocab_size"`
	HiddenSize            int               `json:"hidden_size"`
	Layers                int               `json:"num_hidden_layers"`
	Heads                 int               `json:"num_attention_heads"`
	FFN                   int               `json:"intermediate_size"`
	HiddenAct             string            `json:"hidden_act"`
	HiddenDropout         float64           `json:"hidden_dropout_prob"`
	AttnDropout           float64           `json:"attention_probs_dropout_prob"`
	MaxPosition           int               `json:"max_position_embeddings"`
	TypeVocab             int               `json:"type_vocab_size"`
	InitializerRange      float64           `json:"initializer_range"`
	LayerNormEps          float64           `json:"layer_norm_eps"`
	PadTokenID            int               `json:"pad_token_id"`
	PositionEmbeddingType string            `json:"position_embedding_type"`
	ID2Label              map[string]string `json:"id2label"`
	Label2ID              map[string]int    `json:"label2id"`
	TorchDtype            string            `json:"torch_dtype"`
}

// distilBertJSON is a DistilBertForSequenceClassification's config.json.
// seq_classif_dropout is the dropout tapeml applies after the pooler, its
// one hidden dropout.
type distilBertJSON struct {
	VocabSize         int               `json:"vocab_size"`
	MaxPosition       int               `json:"max_position_embeddings"`
	Sinusoidal        bool              `json:"sinusoidal_pos_embds"`
	Layers            int               `json:"n_layers"`
	Heads             int               `json:"n_heads"`
	Dim               int               `json:"dim"`
	HiddenDim         int               `json:"hidden_dim"`
	Dropout           float64           `json:"dropout"`
	AttnDropout       float64           `json:"attention_dropout"`
	Activation        string            `json:"activation"`
	InitializerRange  float64           `json:"initializer_range"`
	SeqClassifDropout float64           `json:"seq_classif_dropout"`
	PadTokenID        int               `json:"pad_token_id"`
	Architectures     []string          `json:"architectures"`
	ModelType         string            `json:"model_type"`
	ID2Label          map[string]string `json:"id2label"`
	Label2ID          map[string]int    `json:"label2id"`
	TorchDtype        string            `json:"torch_dtype"`
}

// tokenizerJSON is a BertTokenizer's tokenizer_config.json: the basic
// tokenizer's options, the special tokens and the length texts are cut
// to.
type tokenizerJSON struct {
	DoLowerCase    bool   `json:"do_lower_case"`
	StripAccents   *bool  `json:"strip_accents"`
	ChineseChars   bool   `json:"tokenize_chinese_chars"`
	UNK            string `json:"unk_token"`
	SEP            string `json:"sep_token"`
	Pad            string `json:"pad_token"`
	CLS            string `json:"cls_token"`
	Mask           string `json:"mask_token"`
	ModelMaxLength int    `json:"model_max_length"`
	TokenizerClass string `json:"tokenizer_class"`
}
