package textclass

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/text"
	"github.com/tapeml/tapeml/textdata"
	"github.com/tapeml/tapeml/train"
	"github.com/tapeml/tapeml/train/optim"
)

// Data is a text run's data options (train.RunSpec.Data): where the
// texts are, how to read, clean, tokenize and pad them, which class is
// positive and how classes weigh. Keys: "data", "keep_headers",
// "keep_html", "text_column", "label_column", "padding", "truncating",
// "cjk", "positive_label", "class_weight".
type Data struct {
	// Path is an aclImdb-style folder, a folder per label, the
	// SpamAssassin npm package (folder or .tgz) or a .csv; "" means the
	// built-in SpamAssassin sample.
	Path                    string
	KeepHeaders, KeepHTML   bool   // keep e-mail headers, HTML markup
	TextColumn, LabelColumn string // a CSV's columns; default "text" and "label"
	// Padding is where pad_sequences pads: "pre" (default) or "post".
	// Truncating is what a long text keeps: "post" its start (default),
	// "pre" its end (Keras's default), text.HeadTail its start and end.
	Padding, Truncating string
	// CJK makes every CJK ideograph a token of its own
	// (text.TokenizerConfig.CJK); default true.
	CJK bool
	// PositiveLabel names the class a binary model's logit scores; ""
	// keeps the data's: the later of the two names in sorted order
	// (spam of ham/spam, pos of neg/pos, 1 of 0/1).
	PositiveLabel string
	// ClassWeight weighs the loss by class: "" (none), Balanced, weights
	// in class order ("1,3") or by name ("ham=1,spam=3"); see
	// ParseClassWeights. Under DP-SGD they weigh the clipped per-example
	// gradients instead, scaled so that the largest is 1, and default to
	// DPClassWeight.
	ClassWeight string
	// Crop and CropSpan are the training crops (Crops): the share of
	// training texts replaced each epoch by a random span of at most
	// CropSpan tokens; default 0.5 and 50.
	Crop     float64
	CropSpan int
}

// NewData returns the default data options.
func (family) NewData() any {
	return &Data{TextColumn: "text", LabelColumn: "label", Padding: "pre", Truncating: "post", CJK: true, Crop: 0.5, CropSpan: 50}
}

// AddFlags binds the data options to command-line flags.
func (d *Data) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&d.Path, "data", d.Path, "training data: an aclImdb-style folder, a folder per label, the SpamAssassin npm package (folder or .tgz), or a .csv; default: the built-in SpamAssassin sample")
	fs.BoolVar(&d.KeepHeaders, "keep-headers", d.KeepHeaders, "keep e-mail headers (default: dropped)")
	fs.BoolVar(&d.KeepHTML, "keep-html", d.KeepHTML, "keep HTML markup (default: reduced to text)")
	fs.StringVar(&d.TextColumn, "text-column", d.TextColumn, "CSV column holding the text")
	fs.StringVar(&d.LabelColumn, "label-column", d.LabelColumn, "CSV column holding the label")
	fs.StringVar(&d.Padding, "padding", d.Padding, "where short texts are padded: pre or post (word kinds; WordPiece kinds such as transformer cut and pad after the text and refuse it)")
	fs.StringVar(&d.Truncating, "truncating", d.Truncating, "what a long text keeps: post (its first maxlen tokens), pre (its last, as Keras's default) or head-tail (the first quarter and the last three quarters of maxlen); word kinds only, as --padding")
	fs.BoolVar(&d.CJK, "cjk", d.CJK, "make every Chinese/Japanese ideograph a token of its own (as BERT's tokenizer); --cjk=false for Keras's words only")
	fs.StringVar(&d.PositiveLabel, "positive-label", d.PositiveLabel, "binary data: the class the model's probability is about (default: the later name in sorted order: spam of ham/spam, pos of neg/pos, 1 of 0/1)")
	fs.Float64Var(&d.Crop, "crop", d.Crop, "share of training texts replaced each epoch by a random span of themselves (at most --crop-span tokens), so the model learns short texts too; 0 for none")
	fs.IntVar(&d.CropSpan, "crop-span", d.CropSpan, "longest training crop, in tokens")
	fs.StringVar(&d.ClassWeight, "class-weight", d.ClassWeight, "weigh the loss by class: balanced (n/(classes·count), as scikit-learn), weights in class order (1,3) or by name (ham=1,spam=3); default: none (--dp: they weigh each class's clipped gradients, scaled to at most 1; default balanced)")
}

// Settings: text runs resume and fine-tune, and take every training
// setting.
func (family) Settings() train.Settings {
	return train.Settings{Resume: true, Tuning: true, DP: DPTraining}
}

// DPTraining is how text models train under DP-SGD unless told otherwise:
// Adam at lr 0.01 on expected batches of 256. Each step's noise has the
// same size whatever the batch while the summed signal grows with it, so
// DP wants batches larger than the non-private 32, and a learning rate
// that moves far in the few steps a privacy budget allows; the README's DP
// section has the runs that chose them.
var DPTraining = train.DPDefaults{Batch: 256, LR: 0.01, Optimizer: optim.Config{Name: optim.Adam}}

// DPClassWeight is the class weighting of text models under DP-SGD unless
// told otherwise: Balanced, scaled so that the largest weight is 1 and
// applied to the clipped per-example gradients (train.DPConfig's
// ClassWeights). Clipping gives every example a vote of the same size
// whatever its loss, so without it the majority class's votes drag every
// logit its way; the README's DP section has the measurements.
const DPClassWeight = Balanced

// Check checks the data options.
func (family) Check(s *train.RunSpec) error {
	d := s.Data.(*Data)
	if s.Set["data"] && d.Path == "" {
		return train.Invalidf("%s is empty: give a file or folder", train.Field("data"))
	}
	if d.Padding != "pre" && d.Padding != "post" {
		return train.Invalidf("%s %q: want pre or post", train.Field("padding"), d.Padding)
	}
	if !slices.Contains(text.TruncatingModes, d.Truncating) {
		return train.Invalidf("%s %q: want pre, post or %s", train.Field("truncating"), d.Truncating, text.HeadTail)
	}
	if s.Resume != "" && (s.Set["crop"] || s.Set["crop_span"]) {
		return train.Fieldf("%s continues with the run's own crops: drop %s", train.Field("resume"), []train.Field{"crop", "crop_span"})
	}
	return Crop{P: d.Crop, MaxSpan: d.CropSpan}.Validate()
}

// Prepare reads and splits the corpus and fits the tokenizer — or, for a
// run resumed or started from a checkpoint, takes its tokenizer and
// architecture — and sets the architecture's classes and class weights.
func (family) Prepare(ctx context.Context, p *train.Plan) (*train.Prepared, error) {
	d, s, tc := p.Data.(*Data), p.Spec, p.Training
	src := Source{Path: d.Path, Options: textdata.TextOptions{
		CleanOptions: text.CleanOptions{KeepHeaders: d.KeepHeaders, KeepHTML: d.KeepHTML},
		TextColumn:   d.TextColumn, LabelColumn: d.LabelColumn, Seed: s.Training.Seed}}
	if src.Path == "" {
		src.Path = textdata.BuiltinSample
	}
	arch, ok := p.Config.(Arch)
	if !ok {
		return nil, fmt.Errorf("kind %s is in the text family but its configuration has no sequence length and vocabulary", s.Kind.Name)
	}
	var pre *text.Preprocess
	if start := p.Start; start != nil {
		// The architecture and the tokenizer are the checkpoint's; a
		// setting that would change them is a mistake.
		clash := slices.Clone(s.ConfigSet)
		for _, k := range []train.Field{"padding", "truncating", "cjk", "positive_label"} {
			if s.Set[k] {
				clash = append(clash, k)
			}
		}
		if len(clash) > 0 {
			slices.Sort(clash)
			return nil, train.Fieldf("%s keeps the architecture and tokenizer of %s: drop %s", train.Field("init"), start.Checkpoint.Dir, clash)
		}
		arch = start.Config.(Arch)
		pre = start.Codec.(*Codec).Preprocess() // the embedding rows follow its vocabulary
	}
	if prev := p.Resumed; prev != nil {
		var clash []train.Field
		for _, k := range []train.Field{"padding", "truncating", "cjk", "positive_label", "class_weight", "crop", "crop_span"} {
			if s.Set[k] {
				clash = append(clash, k)
			}
		}
		if len(clash) > 0 {
			return nil, train.Fieldf("%s continues with the run's own preprocessing and loss: drop %s", train.Field("resume"), clash)
		}
		c := prev.Codec.(*Codec)
		arch, pre = prev.Config.(Arch), c.Preprocess()
		if !s.Set["data"] {
			src = c.Run().Data
		}
	}
	corpus, err := src.Load()
	if err != nil {
		return nil, err
	}
	if p.Resumed != nil && !dataset.IsBuiltin(src.Path) {
		src.Path, _ = filepath.Abs(src.Path)
	}
	// freshHead: a run started from a model of other classes, whose
	// output layer the kind initializes afresh.
	freshHead := false
	if pre != nil && !slices.Equal(corpus.Classes, pre.Classes) {
		if _, ok := arch.(FreshHeaded); !ok || p.Start == nil {
			return nil, fmt.Errorf("data %s has classes %q, the checkpoint's model %q", src.Path, corpus.Classes, pre.Classes)
		}
		if pre, err = Relabel(pre, corpus, corpus.Positive); err != nil {
			return nil, err
		}
		freshHead = true
	}
	counts := corpus.Counts(corpus.Train)
	if pre == nil {
		if err := arch.Validate(); err != nil {
			return nil, err
		}
		positive := corpus.Positive
		if d.PositiveLabel != "" {
			if len(corpus.Classes) != 2 {
				return nil, train.Fieldf("%s applies to two classes, the data has %d %q", train.Field("positive_label"), len(corpus.Classes), corpus.Classes)
			}
			if positive = slices.Index(corpus.Classes, d.PositiveLabel); positive < 0 {
				return nil, train.Invalidf("%s %q is not a class of the data %q", train.Field("positive_label"), d.PositiveLabel, corpus.Classes)
			}
		}
		if wp, ok := arch.(WordPieced); ok {
			// [CLS] first and padding after: the pooler and the position
			// embeddings read the text from position 0.
			for _, k := range []train.Field{"padding", "truncating"} {
				if s.Set[k] {
					return nil, train.Fieldf("kind %s reads texts as [CLS] pieces… [SEP], cut and padded after them: drop %s", s.Kind.Name, k)
				}
			}
			cfg := wp.WordPiece()
			cfg.ChineseChars = d.CJK
			learn := text.LearnConfig{VocabSize: arch.Vocab(), Tokenizer: cfg}
			if pre, err = FitWordPiece(corpus, src.Options.CleanOptions, learn, arch.SeqLen(), positive); err != nil {
				return nil, err
			}
		} else {
			tok := text.TokenizerConfig{NumWords: arch.Vocab(), CJK: d.CJK}
			pad := text.PadConfig{MaxLen: arch.SeqLen(), Padding: d.Padding, Truncating: d.Truncating}
			if pre, err = Fit(corpus, src.Options.CleanOptions, tok, pad, positive); err != nil {
				return nil, err
			}
		}
	}
	dp := p.Training.DP != nil && p.Resumed == nil
	spec := d.ClassWeight
	if dp && !s.Set["class_weight"] && spec == "" && !slices.Contains(counts, 0) {
		spec = DPClassWeight
		fmt.Fprintf(p.Progress, "dp-sgd: class weights %s on the clipped gradients: the text family's default for private training where none was given\n", spec)
	}
	weights, err := ParseClassWeights(spec, corpus.Classes, counts)
	if err != nil {
		return nil, err
	}
	lossWeights := weights
	if dp && weights != nil {
		// Under DP-SGD the weights act on the clipped gradients: inside
		// the loss, clipping would undo them.
		p.Training.DP.ClassWeights = clipWeights(weights, pre.Positive)
		lossWeights = nil
	}
	if h, ok := arch.(Headed); ok && p.Resumed == nil {
		head := h.TextHead()
		if p.Start != nil && !freshHead && head.NumClasses() != len(corpus.Classes) {
			return nil, train.Fieldf("%s %s is a model of %d classes, the data has %d", train.Field("init"), p.Start.Checkpoint.Dir, head.NumClasses(), len(corpus.Classes))
		}
		head.Classes = len(corpus.Classes)
		head.ClassWeights, head.WeightNorm = nil, 0
		if lossWeights != nil {
			head.ClassWeights = headWeights(lossWeights, pre.Positive)
		}
		arch = h.WithHead(head)
	} else if p.Resumed == nil && (len(corpus.Classes) != 2 || lossWeights != nil) {
		return nil, fmt.Errorf("kind %s has a fixed binary head (its configuration is not Headed): it takes two classes without class weights; the data has %d classes %q", s.Kind.Name, len(corpus.Classes), corpus.Classes)
	}
	if err := arch.Validate(); err != nil {
		return nil, err
	}
	var init []safetensors.Tensor
	if freshHead {
		init = freshStart(p.Progress, p.Start.Checkpoint, arch.(FreshHeaded), tc.Seed, corpus.Classes)
	}
	archJSON, err := json.Marshal(arch)
	if err != nil {
		return nil, err
	}
	var sets [3]*dataset.Tensors
	for i, part := range [][]textdata.TextExample{corpus.Train, corpus.Val, corpus.Test} {
		if sets[i], err = Dataset(pre, part); err != nil {
			return nil, err
		}
	}
	crop := Crop{P: d.Crop, MaxSpan: d.CropSpan}
	if prev := p.Resumed; prev != nil {
		crop = prev.Codec.(*Codec).Run().Crop
	}
	var trainSet dataset.Dataset = sets[0]
	if crop.P > 0 {
		trainSet = &Crops{Tensors: sets[0], Crop: crop, PadPre: pre.Pad.Padding != "post", Bracketed: pre.WordPiece != nil, Seed: tc.Seed}
	}
	weighting := ""
	switch {
	case lossWeights != nil:
		weighting = "; class weights " + formatWeights(weights, corpus.Classes)
	case weights != nil:
		w := p.Training.DP.ClassWeights
		weighting = "; class weights on the clipped gradients " + formatWeights(headWeights(w, pre.Positive), corpus.Classes)
	}
	return &train.Prepared{
		Config: arch,
		Train:  trainSet, Val: sets[1], TestSet: sets[2],
		Info: train.RunInfo{Config: Run{Model: archJSON, Data: src, Crop: crop}, Preprocessing: pre},
		Init: init,
		Summary: func(params int) string {
			return fmt.Sprintf("%s: %d parameters; data %s: %d train, %d val, %d test (classes %v%s); %d epochs, batch %d, %s lr %g",
				s.Kind.Name, params, src.Path, sets[0].Len(), sets[1].Len(), sets[2].Len(), pre.Classes, weighting, tc.Epochs, tc.Batch, tc.Optimizer.Name, tc.LR)
		},
	}, nil
}

// freshStart returns the weights a run started from the checkpoint c (a
// model of other classes) loads: c's, with the output layer replaced by
// arch's fresh one (seeded by seed). It says in one line which tensors
// were initialized afresh.
func freshStart(w io.Writer, c *checkpoint.Checkpoint, arch FreshHeaded, seed uint64, classes []string) []safetensors.Tensor {
	fresh := arch.FreshHead(seed)
	byName := make(map[string]safetensors.Tensor, len(fresh))
	names := make([]string, len(fresh))
	for i, t := range fresh {
		byName[t.Name] = t
		names[i] = fmt.Sprintf("%s %v", t.Name, t.Shape)
	}
	out := make([]safetensors.Tensor, 0, len(c.Weights))
	for _, t := range c.Weights {
		if f, ok := byName[t.Name]; ok {
			t = f
			delete(byName, t.Name)
		}
		out = append(out, t)
	}
	for _, t := range fresh { // an output layer the checkpoint lacks
		if _, ok := byName[t.Name]; ok {
			out = append(out, t)
		}
	}
	fmt.Fprintf(w, "init: the data's %d classes %q are not the model's: freshly initialized %s (seed %d); every other tensor from %s\n",
		len(classes), classes, strings.Join(names, ", "), seed, c.Dir)
	return out
}
