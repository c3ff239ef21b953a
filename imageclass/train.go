package imageclass

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/tapeml/tapeml/atomicfile"
	"github.com/tapeml/tapeml/charts"
	"github.com/tapeml/tapeml/imagedata"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/train"
)

// ConfusionFile is the plot of the test confusion matrix a run writes
// into its run folder.
const ConfusionFile = "confusion.png"

// Data is an image run's data options (train.RunSpec.Data). Keys: "data",
// "format", "augment".
type Data struct {
	// Path is an IDX folder (MNIST/Fashion-MNIST), a CIFAR-10 binary
	// folder, a folder per class of PNG/JPEG, or a built-in name
	// (default: the Fashion-MNIST sample).
	Path string
	// Format forces the format: "auto" (default), "idx", "cifar" or
	// "folder".
	Format string
	// Augment lists the training augmentation, in order: "crop",
	// "resized-crop", "flip", comma-separated; "none" (default) for none.
	Augment string
}

// NewData returns the default data options.
func (family) NewData() any {
	return &Data{Path: imagedata.BuiltinSample, Format: "auto", Augment: "none"}
}

// AddFlags binds the data options to command-line flags.
func (d *Data) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&d.Path, "data", d.Path, "images: an IDX folder (MNIST/Fashion-MNIST), a CIFAR-10 binary folder, or a folder per class of PNG/JPEG (train/ and test/ when present); default: the built-in Fashion-MNIST sample")
	fs.StringVar(&d.Format, "format", d.Format, "force the data format: auto, idx, cifar or folder")
	fs.StringVar(&d.Augment, "augment", d.Augment, "training augmentation, in order: crop (random crop with padding), resized-crop (RandomResizedCrop), flip; or none")
}

// Settings: image runs resume and fine-tune, and take every training
// setting.
func (family) Settings() train.Settings {
	return train.Settings{Resume: true, Tuning: true, Synopsis: "[--data DIR]", Help: map[train.Field]string{
		"seed": "seed for initialization, splits, shuffling, augmentation and dropout",
		"init": "fine-tune: start from this checkpoint's weights (or a run folder's best; e.g. one made by tapeml import); the data must have its image size and classes",
		"out":  "run folder (default runs/convnet-TIME)",
	}}
}

// Check refuses architecture settings that a resumed run or a starting
// checkpoint decides, and checks the data options.
func (family) Check(s *train.RunSpec) error {
	set := func(k train.Field) bool { return containsField(s.ConfigSet, k) }
	switch {
	case s.Resume != "" && (set("norm") || set("dropout")):
		return train.Fieldf("%s continues with the run's own architecture: drop %s and %s", train.Field("resume"), train.Field("norm"), train.Field("dropout"))
	case s.Init != "" && set("norm"):
		return train.Fieldf("%s keeps the architecture of its checkpoint: drop %s", train.Field("init"), train.Field("norm"))
	}
	d := s.Data.(*Data)
	if _, err := imagedata.ParseFormat(d.Format); err != nil {
		return err
	}
	_, err := imagedata.ParseAugment(d.Augment)
	return err
}

func containsField(fs []train.Field, k train.Field) bool {
	for _, f := range fs {
		if f == k {
			return true
		}
	}
	return false
}

// Prepare reads the images and sets up the pipeline: the data's
// normalization and the augmentation asked for, or those of the run
// resumed or started from; the input shape and classes come from the data.
func (family) Prepare(ctx context.Context, p *train.Plan) (*train.Prepared, error) {
	d, s, tc, w := p.Data.(*Data), p.Spec, p.Training, p.Progress
	format, err := imagedata.ParseFormat(d.Format)
	if err != nil {
		return nil, err
	}
	augs, err := imagedata.ParseAugment(d.Augment)
	if err != nil {
		return nil, err
	}
	src := Source{Path: d.Path, Format: format}
	if prev := p.Resumed; prev != nil && !s.Set["data"] {
		src = prev.Codec.(*Codec).Run().Data
	}
	src.Seed = tc.Seed
	data, err := src.Load()
	if err != nil {
		return nil, err
	}
	for _, n := range data.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	pipe, err := data.Pipeline(augs)
	if err != nil {
		return nil, err
	}
	if prev := p.Resumed; prev != nil {
		pp := prev.Codec.(*Codec).Preprocessing()
		pipe = pp.Pipeline
		pipe.Augment = augs
		if !s.Set["augment"] {
			pipe.Augment = pp.Augment
		}
	}
	if start := p.Start; start != nil {
		// Normalize as the weights were trained to see.
		augment := pipe.Augment
		pipe = start.Codec.(*Codec).Preprocessing().Pipeline
		pipe.Augment = augment
	}
	c, h, wd := data.Shape()
	cfg, ok := p.Config.(shaped)
	if !ok {
		return nil, fmt.Errorf("kind %s is in the image family but its configuration takes no input shape and classes", s.Kind.Name)
	}
	if start := p.Start; start != nil {
		sc := start.Config.(Arch)
		sch, sh, sw := sc.InputShape()
		if sch != c || sh != h || sw != wd || sc.NumClasses() != len(data.Classes) {
			return nil, train.Fieldf("%s %s is a model for %d×%d×%d images in %d classes; the data has %d×%d×%d images in %d classes",
				train.Field("init"), start.Checkpoint.Dir, sch, sh, sw, sc.NumClasses(), c, h, wd, len(data.Classes))
		}
		// The checkpoint's architecture, with the dropout asked for:
		// dropout is training only, the weights are the same.
		from := start.Config.(shaped)
		if containsField(s.ConfigSet, "dropout") {
			from = from.WithTraining(cfg).(shaped)
		}
		cfg = from
	}
	arch := cfg.WithData(c, h, wd, len(data.Classes))
	if err := arch.Validate(); err != nil {
		return nil, err
	}
	model, err := json.Marshal(arch)
	if err != nil {
		return nil, err
	}
	trainSet, err := imagedata.NewDataset(data.Train, pipe, tc.Seed)
	if err != nil {
		return nil, err
	}
	valSet, err := imagedata.NewDataset(data.Val, pipe.Eval(), tc.Seed)
	if err != nil {
		return nil, err
	}
	testSet, err := imagedata.NewDataset(data.Test, pipe.Eval(), tc.Seed)
	if err != nil {
		return nil, err
	}
	// The reference prints "[epoch, batches] loss: …" lines; we print one
	// per epoch, with the epoch's mean training loss.
	stepsPerEpoch := (trainSet.Len() + tc.Batch - 1) / tc.Batch
	return &train.Prepared{
		Config: arch,
		Train:  trainSet, Val: valSet, TestSet: testSet,
		Info: train.RunInfo{Config: Run{Model: model, Data: src},
			Preprocessing: Preprocessing{Pipeline: pipe.Eval(), Classes: data.Classes, Augment: pipe.Augment}},
		OnEpoch: func(r train.EpochResult) error {
			for _, m := range r.Metrics {
				if m.Name == "train/loss" {
					fmt.Fprintf(w, "[%d, %5d] loss: %.3f\n", r.Epoch, stepsPerEpoch, m.Value)
				}
			}
			return nil
		},
		Summary: func(params int) string {
			return fmt.Sprintf("%s: %d parameters%s; data %s (%s, %d×%d×%d, %d classes): %d train, %d val, %d test; %d epochs, batch %d, %s lr %g momentum %g, schedule %s; augment %s",
				s.Kind.Name, params, describe(arch), src.Path, data.Format, c, h, wd, len(data.Classes), data.Train.Len(), data.Val.Len(), data.Test.Len(),
				tc.Epochs, tc.Batch, tc.Optimizer.Name, tc.LR, tc.Optimizer.Momentum, tc.Schedule.Name, d.Augment)
		},
		Tested: func(r metrics.Result) error {
			if r.Confusion == nil {
				return nil
			}
			fmt.Fprintf(w, "confusion matrix (rows: true class, columns: predicted):\n%s", r.Confusion.Format(data.Classes))
			png := filepath.Join(p.Out, ConfusionFile)
			fig, err := charts.Confusion(r.Confusion, data.Classes)
			if err != nil {
				return err
			}
			if err := atomicfile.WriteFile(png, func(f io.Writer) error { return fig.Write(f, charts.PNG) }); err != nil {
				return err
			}
			fmt.Fprintf(w, "confusion matrix plot: %s\n", png)
			return nil
		},
	}, nil
}

// shaped is an image kind's configuration that training completes from
// the data.
type shaped interface {
	kinds.Config
	// WithData returns the configuration for images of c×h×w in classes
	// classes.
	WithData(c, h, w, classes int) kinds.Config
	// WithTraining returns the configuration with the training-only
	// settings (dropout) of from.
	WithTraining(from kinds.Config) kinds.Config
}

// describe says the architecture choices worth a summary: " (norm batch,
// dropout 0.5)".
func describe(arch kinds.Config) string {
	if d, ok := arch.(interface{ Describe() string }); ok {
		return " (" + d.Describe() + ")"
	}
	return ""
}
