package textclass

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/spf13/pflag"

	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/text"
	"github.com/tapeml/tapeml/textdata"
	"github.com/tapeml/tapeml/train"
	"github.com/tapeml/tapeml/train/optim"
)

// Data is a text run's data options (train.RunSpec.Data): where the
// texts are, how to read and clean them, and how to pad them. Keys: "data",
// "keep_headers", "keep_html", "text_column", "label_column", "padding",
// "truncating".
type Data struct {
	// Path is an aclImdb-style folder, a folder per label, the
	// SpamAssassin npm package (folder or .tgz) or a .csv; "" means the
	// built-in SpamAssassin sample.
	Path                    string
	KeepHeaders, KeepHTML   bool   // keep e-mail headers, HTML markup
	TextColumn, LabelColumn string // a CSV's columns; default "text" and "label"
	// Padding and Truncating are where pad_sequences pads and cuts:
	// "pre" (default) or "post".
	Padding, Truncating string
}

// NewData returns the default data options.
func (family) NewData() any {
	return &Data{TextColumn: "text", LabelColumn: "label", Padding: "pre", Truncating: "pre"}
}

// AddFlags binds the data options to command-line flags.
func (d *Data) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&d.Path, "data", d.Path, "training data: an aclImdb-style folder, a folder per label, the SpamAssassin npm package (folder or .tgz), or a .csv; default: the built-in SpamAssassin sample")
	fs.BoolVar(&d.KeepHeaders, "keep-headers", d.KeepHeaders, "keep e-mail headers (default: dropped)")
	fs.BoolVar(&d.KeepHTML, "keep-html", d.KeepHTML, "keep HTML markup (default: reduced to text)")
	fs.StringVar(&d.TextColumn, "text-column", d.TextColumn, "CSV column holding the text")
	fs.StringVar(&d.LabelColumn, "label-column", d.LabelColumn, "CSV column holding the label")
	fs.StringVar(&d.Padding, "padding", d.Padding, "pad_sequences padding: pre or post")
	fs.StringVar(&d.Truncating, "truncating", d.Truncating, "pad_sequences truncating: pre (keep a text's last words) or post (keep its first)")
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

// Check checks the data options.
func (family) Check(s *train.RunSpec) error {
	d := s.Data.(*Data)
	if s.Set["data"] && d.Path == "" {
		return train.Invalidf("%s is empty: give a file or folder", train.Field("data"))
	}
	return nil
}

// Prepare reads and splits the corpus and fits the tokenizer — or, for a
// run resumed or started from a checkpoint, takes its tokenizer and
// architecture.
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
		for _, k := range []train.Field{"padding", "truncating"} {
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
	if pre == nil {
		for _, v := range []struct {
			key   train.Field
			value string
		}{{"padding", d.Padding}, {"truncating", d.Truncating}} {
			if v.value != "pre" && v.value != "post" {
				return nil, train.Invalidf("%s %q: want pre or post", v.key, v.value)
			}
		}
		if err := arch.Validate(); err != nil {
			return nil, err
		}
		if pre, err = Fit(corpus, src.Options.CleanOptions, arch.Vocab(), arch.SeqLen()); err != nil {
			return nil, err
		}
		pre.Pad.Padding, pre.Pad.Truncating = d.Padding, d.Truncating
	}
	if err := arch.Validate(); err != nil {
		return nil, err
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
	return &train.Prepared{
		Config: arch,
		Train:  sets[0], Val: sets[1], TestSet: sets[2],
		Info: train.RunInfo{Config: Run{Model: archJSON, Data: src}, Preprocessing: pre},
		Summary: func(params int) string {
			return fmt.Sprintf("%s: %d parameters; data %s: %d train, %d val, %d test (classes %v); %d epochs, batch %d, %s lr %g",
				s.Kind.Name, params, src.Path, sets[0].Len(), sets[1].Len(), sets[2].Len(), pre.Classes, tc.Epochs, tc.Batch, tc.Optimizer.Name, tc.LR)
		},
	}, nil
}
