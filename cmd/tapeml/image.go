package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/imagedata"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/models/convnet"
	"github.com/tapeml/tapeml/train"
)

func init() { familyTrain[kinds.Image] = trainImage }

func trainImage(e env, kind string, args []string) error {
	fs := newFlags(e, "train", "tapeml train convnet [--data DIR] [flags]")
	tc := convnet.DefaultTraining()
	src := kinds.ImageSource{Path: kinds.BuiltinImages}
	fs.StringVar(&src.Path, "data", kinds.BuiltinImages, "images: an IDX folder (MNIST/Fashion-MNIST), a CIFAR-10 binary folder, or a folder per class of PNG/JPEG (train/ and test/ when present); default: the built-in Fashion-MNIST sample")
	format := fs.String("format", "auto", "force the data format: auto, idx, cifar or folder")
	augment := fs.String("augment", "none", "training augmentation, in order: crop (random crop with padding), resized-crop (RandomResizedCrop), flip; or none")
	fs.IntVar(&tc.Epochs, "epochs", tc.Epochs, "passes over the training set (with --resume: the total to reach)")
	fs.IntVar(&tc.Batch, "batch", tc.Batch, "examples per step")
	fs.Float64Var(&tc.LR, "lr", tc.LR, "learning rate")
	addOptimizerFlags(fs, &tc)
	fs.Uint64Var(&tc.Seed, "seed", tc.Seed, "seed for initialization, splits, shuffling, augmentation and dropout")
	fs.StringVar(&tc.Monitor, "monitor", "val/loss", "metric that picks the best epoch")
	fs.IntVar(&tc.Patience, "patience", 0, "stop after this many epochs without improvement (0 = never)")
	fs.IntVar(&tc.Keep, "keep", 3, "epoch checkpoints kept besides the best")
	out := fs.String("out", "", "run folder (default runs/convnet-TIME)")
	resume := fs.String("resume", "", "continue the run whose checkpoint (or run folder) this is")
	force := fs.Bool("force", false, "train afresh into an --out that holds a run, deleting its checkpoints")
	initFrom := fs.String("init", "", "fine-tune: start from this checkpoint's weights (or a run folder's best; e.g. one made by tapeml import); the data must have its image size and classes")
	threads := fs.Int("threads", 0, "CPU threads (default: all); the same seed and thread count give the same weights")
	arch := convnetArchFlags(fs)
	dpf := addDPFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case *resume != "" && (set["norm"] || set["dropout"]):
		return fmt.Errorf("--resume continues with the run's own architecture: drop --norm and --dropout")
	case *initFrom != "" && set["norm"]:
		return fmt.Errorf("--init keeps the architecture of its checkpoint: drop --norm")
	}
	dpc, err := imageDP(dpf, set, arch.Norm, *resume != "")
	if err != nil {
		return err
	}
	if *threads < 0 {
		return fmt.Errorf("--threads must be positive, got %d", *threads)
	}
	if *threads > 0 {
		runtime.GOMAXPROCS(*threads)
	}
	f, err := imagedata.ParseFormat(*format)
	if err != nil {
		return err
	}
	src.Format = f
	augs, err := imagedata.ParseAugment(*augment)
	if err != nil {
		return err
	}
	if dpc != nil {
		tc.DP = dpc
	}
	if err := tc.Validate(); err != nil {
		return err
	}
	var prev, start *kinds.Loaded
	if *initFrom != "" {
		if *resume != "" {
			return fmt.Errorf("--init and --resume exclude each other: --resume continues a run, --init starts a new one from its weights")
		}
		if start, err = kinds.Open(*initFrom, checkpoint.PickBest); err != nil {
			return fmt.Errorf("--init: %w", err)
		}
		if start.Image == nil {
			return fmt.Errorf("--init %s holds a %s model, not %s", start.Checkpoint.Dir, start.Spec, convnet.Kind)
		}
	}
	if *resume != "" {
		c, err := openCheckpoint(*resume, checkpoint.PickLatest)
		if err != nil {
			return err
		}
		if err := c.CanResume(); err != nil {
			return err
		}
		if prev, err = kinds.Decode(c); err != nil {
			return err
		}
		if prev.Image == nil {
			return fmt.Errorf("--resume %s holds a %s model, not %s", c.Dir, prev.Spec, convnet.Kind)
		}
		epochs := tc.Epochs
		tc = prev.Training
		if set["epochs"] {
			tc.Epochs = epochs
		}
		if !set["data"] {
			src = prev.Image.Run.Data
		}
		if *out == "" {
			*out = runRoot(c.Dir)
		}
	}
	tc = tc.Defaults()
	if *out == "" {
		*out = filepath.Join("runs", convnet.Kind+"-"+time.Now().Format("20060102-150405"))
	}
	release, err := startRun(*out, continues(prev, *out), *force)
	if err != nil {
		return err
	}
	defer release()
	src.Seed = tc.Seed
	data, err := src.Load()
	if err != nil {
		return err
	}
	for _, n := range data.Notes {
		fmt.Fprintf(e.stdout, "note: %s\n", n)
	}
	pipe, err := data.Pipeline(augs)
	if err != nil {
		return err
	}
	if prev != nil {
		pipe = prev.Image.Pre.Pipeline
		pipe.Augment = augs
		if !set["augment"] {
			pipe.Augment = prev.Image.Pre.Augment
		}
	}
	if start != nil {
		// Normalize as the weights were trained to see.
		augment := pipe.Augment
		pipe = start.Image.Pre.Pipeline
		pipe.Augment = augment
	}
	c, h, w := data.Shape()
	cfg := *arch
	cfg.Channels, cfg.Height, cfg.Width, cfg.Classes = c, h, w, len(data.Classes)
	if prev != nil {
		cfg.Norm, cfg.Dropout = prev.Image.Run.Model.Norm, prev.Image.Run.Model.Dropout
	}
	if start != nil {
		sc := start.Image.Run.Model
		if sc.Channels != c || sc.Height != h || sc.Width != w || sc.Classes != len(data.Classes) {
			return fmt.Errorf("--init %s is a model for %d×%d×%d images in %d classes; the data has %d×%d×%d images in %d classes",
				start.Checkpoint.Dir, sc.Channels, sc.Height, sc.Width, sc.Classes, c, h, w, len(data.Classes))
		}
		dropout := sc.Dropout
		if set["dropout"] {
			dropout = cfg.Dropout // dropout is training only: the weights are the same
		}
		cfg = sc
		cfg.Dropout = dropout
	}
	model, err := convnet.New(cfg)
	if err != nil {
		return err
	}
	trainSet, err := imagedata.NewDataset(data.Train, pipe, tc.Seed)
	if err != nil {
		return err
	}
	valSet, err := imagedata.NewDataset(data.Val, pipe.Eval(), tc.Seed)
	if err != nil {
		return err
	}
	testSet, err := imagedata.NewDataset(data.Test, pipe.Eval(), tc.Seed)
	if err != nil {
		return err
	}
	params := graph.NewParams(tensor.Float32, tc.Seed)
	t, err := train.New(model, params, tc)
	if err != nil {
		return err
	}
	if prev != nil {
		if err := t.Resume(prev.Checkpoint); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "resuming %s at epoch %d, step %d\n", prev.Checkpoint.Dir, t.Epoch, t.Step)
	}
	if start != nil {
		if err := checkpoint.LoadWeights(params, start.Checkpoint.Weights, start.Checkpoint.Dir); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "starting from the weights of %s\n", start.Checkpoint.Dir)
	}
	// The reference prints "[epoch, batches] loss: …" lines; we print one per
	// epoch, with the epoch's mean training loss.
	stepsPerEpoch := (trainSet.Len() + tc.Batch - 1) / tc.Batch
	t.Hooks = train.Hooks{OnEpoch: func(r train.EpochResult) error {
		for _, m := range r.Metrics {
			if m.Name == "train/loss" {
				fmt.Fprintf(e.stdout, "[%d, %5d] loss: %.3f\n", r.Epoch, stepsPerEpoch, m.Value)
			}
		}
		return nil
	}}
	t.Progress = e.stdout
	t.Saver = &train.Saver{
		Dir:  checkpoint.Dir{Root: *out, Keep: tc.Keep},
		Info: train.RunInfo{Kind: convnet.Kind, Config: kinds.ImageRun{Model: cfg, Data: src}, Preprocessing: kinds.ImagePreprocessing{Pipeline: pipe.Eval(), Classes: data.Classes, Augment: pipe.Augment}},
	}
	fmt.Fprintf(e.stdout, "convnet: %d parameters (norm %s, dropout %g); data %s (%s, %d×%d×%d, %d classes): %d train, %d val, %d test; %d epochs, batch %d, %s lr %g momentum %g, schedule %s; augment %s\n",
		params.Count(), cfg.Norm, cfg.Dropout, src.Path, data.Format, c, h, w, len(data.Classes), data.Train.Len(), data.Val.Len(), data.Test.Len(),
		tc.Epochs, tc.Batch, tc.Optimizer.Name, tc.LR, tc.Optimizer.Momentum, tc.Schedule.Name, *augment)
	r, best, err := fitAndTest(e, t, trainSet, valSet, testSet, *out)
	if err != nil {
		return err
	}
	if r.Confusion != nil {
		fmt.Fprintf(e.stdout, "confusion matrix (rows: true class, columns: predicted):\n%s", r.Confusion.Format(data.Classes))
		png := filepath.Join(*out, "confusion.png")
		if err := writeConfusionPNG(png, r.Confusion, data.Classes); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "confusion matrix plot: %s\n", png)
	}
	fmt.Fprintf(e.stdout, "checkpoint: %s\n", best)
	return nil
}

// writeConfusionPNG writes atomically: a temporary file, then a rename.
func writeConfusionPNG(path string, m metrics.Confusion, classes []string) error {
	var buf bytes.Buffer
	if err := metrics.PlotConfusionPNG(m, classes, &buf); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
