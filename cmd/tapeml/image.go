package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/imagedata"
	"github.com/tapeml/tapeml/models/convnet"
	"github.com/tapeml/tapeml/samples"
	"github.com/tapeml/tapeml/train"
	"github.com/tapeml/tapeml/train/metrics"
)

// builtinImages names the compiled-in Fashion-MNIST sample in checkpoints.
const builtinImages = "builtin:fashion-mnist-sample"

// imageSource says where a run's images came from, so eval finds the same
// test split again.
type imageSource struct {
	Path   string           `json:"path"` // a folder, or builtinImages
	Format imagedata.Format `json:"format,omitempty"`
	Seed   uint64           `json:"seed"`
}

// imageRun is an image checkpoint's model_config.
type imageRun struct {
	Model convnet.Config `json:"model"`
	Data  imageSource    `json:"data"`
}

// imagePre is an image checkpoint's preprocessing: the evaluation pipeline
// (so predict preprocesses as evaluation did) and the class names.
type imagePre struct {
	Pipeline imagedata.Pipeline `json:"pipeline"`
	Classes  []string           `json:"classes"`
}

func init() {
	registerFamily(family{
		kinds: []string{convnet.Kind},
		summary: func(string) string {
			return "2×(conv → batchnorm → ReLU → max-pool) → 1024 → 512 → classes; image classifier (Fashion-MNIST, CIFAR-10, image folders)"
		},
		defaults: func(string) (any, any) { return convnet.DefaultConfig(), convnet.DefaultTraining() },
		train:    trainImage,
		eval:     evalImage,
		predict:  predictImage,
	})
}

func (s imageSource) load() (*imagedata.Set, error) {
	opt := imagedata.Options{Format: s.Format, Seed: s.Seed}
	if s.Path == builtinImages {
		return samples.FashionMNISTWith(opt)
	}
	if s.Path == "" {
		return nil, fmt.Errorf("--data is empty: give a folder")
	}
	if _, err := os.Stat(s.Path); err != nil {
		return nil, fmt.Errorf("--data %s: no such folder", s.Path)
	}
	return imagedata.Load(s.Path, opt)
}

func trainImage(e env, kind string, args []string) error {
	fs := newFlags(e, "train", "tapeml train convnet [--data DIR] [flags]")
	tc := convnet.DefaultTraining()
	src := imageSource{Path: builtinImages}
	fs.StringVar(&src.Path, "data", builtinImages, "images: an IDX folder (MNIST/Fashion-MNIST), a CIFAR-10 binary folder, or a folder per class of PNG/JPEG (train/ and test/ when present); default: the built-in Fashion-MNIST sample")
	format := fs.String("format", "auto", "force the data format: auto, idx, cifar or folder")
	augment := fs.String("augment", "none", "training augmentation, in order: crop (random crop with padding), resized-crop (RandomResizedCrop), flip; or none")
	fs.IntVar(&tc.Epochs, "epochs", tc.Epochs, "passes over the training set (with --resume: the total to reach)")
	fs.IntVar(&tc.Batch, "batch", tc.Batch, "examples per step")
	fs.Float64Var(&tc.LR, "lr", tc.LR, "learning rate")
	fs.Float64Var(&tc.Optimizer.Momentum, "momentum", tc.Optimizer.Momentum, "SGD momentum")
	fs.Float64Var(&tc.Optimizer.WeightDecay, "weight-decay", 0, "L2 weight decay")
	fs.Uint64Var(&tc.Seed, "seed", tc.Seed, "seed for initialization, splits, shuffling, augmentation and dropout")
	fs.StringVar(&tc.Monitor, "monitor", "val/loss", "metric that picks the best epoch")
	fs.IntVar(&tc.Patience, "patience", 0, "stop after this many epochs without improvement (0 = never)")
	fs.IntVar(&tc.Keep, "keep", 3, "epoch checkpoints kept besides the best")
	out := fs.String("out", "", "run folder (default runs/convnet-TIME)")
	resume := fs.String("resume", "", "continue the run whose checkpoint (or run folder) this is")
	initFrom := fs.String("init", "", "fine-tune: start from this checkpoint's weights (or a run folder's best; e.g. one made by tapeml import); the data must have its image size and classes")
	threads := fs.Int("threads", 0, "CPU threads (default: all); the same seed and thread count give the same weights")
	norm := fs.String("norm", convnet.NormBatch, "normalization after each convolution: batch (BatchNorm) or group (GroupNorm, needed by --dp)")
	dpf := addDPFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags go after the model name)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	dpc, err := imageDP(dpf, set, *norm, *resume != "")
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
	var prev, start *loadedImage
	if *initFrom != "" {
		if *resume != "" {
			return fmt.Errorf("--init and --resume exclude each other: --resume continues a run, --init starts a new one from its weights")
		}
		c, err := openCheckpoint(*initFrom, checkpoint.PickBest)
		if err != nil {
			return fmt.Errorf("--init: %w", err)
		}
		if c.Meta.ModelKind != convnet.Kind {
			return fmt.Errorf("--init %s holds a %s model, not %s", c.Dir, c.Meta.ModelKind, convnet.Kind)
		}
		if start, err = loadImageModel(c); err != nil {
			return fmt.Errorf("--init: %w", err)
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
		if prev, err = loadImageModel(c); err != nil {
			return err
		}
		epochs := tc.Epochs
		if tc, err = train.ConfigOf(c); err != nil {
			return err
		}
		if set["epochs"] {
			tc.Epochs = epochs
		}
		if !set["data"] {
			src = prev.run.Data
		}
		if *out == "" {
			*out = runRoot(c.Dir)
		}
	}
	tc = tc.Defaults()
	src.Seed = tc.Seed
	data, err := src.load()
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
		pipe = prev.pre.Pipeline
		pipe.Augment = augs
		if !set["augment"] {
			pipe.Augment = prev.augment
		}
	}
	if start != nil {
		// Normalize as the weights were trained to see.
		augment := pipe.Augment
		pipe = start.pre.Pipeline
		pipe.Augment = augment
	}
	c, h, w := data.Shape()
	cfg := convnet.DefaultConfig()
	cfg.Channels, cfg.Height, cfg.Width, cfg.Classes = c, h, w, len(data.Classes)
	cfg.Norm = *norm
	if prev != nil {
		cfg.Norm = prev.run.Model.Norm
	}
	if start != nil {
		sc := start.run.Model
		if sc.Channels != c || sc.Height != h || sc.Width != w || sc.Classes != len(data.Classes) {
			return fmt.Errorf("--init %s is a model for %d×%d×%d images in %d classes; the data has %d×%d×%d images in %d classes",
				start.ckpt.Dir, sc.Channels, sc.Height, sc.Width, sc.Classes, c, h, w, len(data.Classes))
		}
		cfg = sc
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
	if *out == "" {
		*out = filepath.Join("runs", convnet.Kind+"-"+time.Now().Format("20060102-150405"))
	}
	params := graph.NewParams(tensor.Float32, tc.Seed)
	t, err := train.New(model, params, tc)
	if err != nil {
		return err
	}
	if prev != nil {
		if err := t.Resume(prev.ckpt); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "resuming %s at epoch %d, step %d\n", prev.ckpt.Dir, t.Epoch, t.Step)
	}
	if start != nil {
		if err := train.LoadWeights(params, start.ckpt.Weights, start.ckpt.Dir); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "starting from the weights of %s\n", start.ckpt.Dir)
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
		Info: train.RunInfo{Kind: convnet.Kind, Config: imageRun{Model: cfg, Data: src}, Preprocessing: trainingPre{Pipeline: pipe.Eval(), Classes: data.Classes, Augment: pipe.Augment}},
	}
	fmt.Fprintf(e.stdout, "convnet: %d parameters; data %s (%s, %d×%d×%d, %d classes): %d train, %d val, %d test; %d epochs, batch %d, %s lr %g momentum %g; augment %s\n",
		params.Count(), src.Path, data.Format, c, h, w, len(data.Classes), data.Train.Len(), data.Val.Len(), data.Test.Len(),
		tc.Epochs, tc.Batch, tc.Optimizer.Name, tc.LR, tc.Optimizer.Momentum, *augment)
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

// trainingPre is imagePre plus the training augmentation, kept so a resumed
// run augments as the original did.
type trainingPre struct {
	Pipeline imagedata.Pipeline  `json:"pipeline"`
	Classes  []string            `json:"classes"`
	Augment  []imagedata.Augment `json:"augment,omitempty"`
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

// loadedImage is an image checkpoint ready to use.
type loadedImage struct {
	ckpt    *checkpoint.Checkpoint
	run     imageRun
	pre     imagePre
	augment []imagedata.Augment
	trainer *train.Trainer
}

func loadImageModel(c *checkpoint.Checkpoint) (*loadedImage, error) {
	l := &loadedImage{ckpt: c}
	meta := filepath.Join(c.Dir, checkpoint.MetaFile)
	if err := strictJSON(c.Meta.ModelConfig, &l.run); err != nil {
		return nil, fmt.Errorf("%s: model_config: %w", meta, err)
	}
	var tp trainingPre
	if err := json.Unmarshal(c.Meta.Preprocessing, &tp); err != nil {
		return nil, fmt.Errorf("%s: preprocessing: %w", meta, err)
	}
	if err := tp.Pipeline.Validate(); err != nil {
		return nil, fmt.Errorf("%s: preprocessing: %w", meta, err)
	}
	l.pre, l.augment = imagePre{Pipeline: tp.Pipeline, Classes: tp.Classes}, tp.Augment
	if len(l.pre.Classes) != l.run.Model.Classes {
		return nil, fmt.Errorf("%s: %d class names for a %d-class model", meta, len(l.pre.Classes), l.run.Model.Classes)
	}
	model, err := convnet.New(l.run.Model)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", meta, err)
	}
	tcfg, err := train.ConfigOf(c)
	if err != nil {
		return nil, err
	}
	params := graph.NewParams(tensor.Float32, tcfg.Defaults().Seed)
	if l.trainer, err = train.New(model, params, tcfg); err != nil {
		return nil, fmt.Errorf("%s: %w", c.Dir, err)
	}
	if err := train.LoadWeights(params, c.Weights, filepath.Join(c.Dir, checkpoint.WeightsFile)); err != nil {
		return nil, err
	}
	return l, nil
}

func evalImage(e env, c *checkpoint.Checkpoint, o evalOptions) error {
	l, err := loadImageModel(c)
	if err != nil {
		return err
	}
	src := l.run.Data
	if o.data != "" {
		src.Path, src.Format = o.data, imagedata.FormatAuto
	}
	data, err := src.load()
	if err != nil {
		return err
	}
	if strings.Join(data.Classes, "\x00") != strings.Join(l.pre.Classes, "\x00") {
		return fmt.Errorf("data %s has classes %v, the model was trained on %v", src.Path, data.Classes, l.pre.Classes)
	}
	p := l.pre.Pipeline
	test, resized, err := data.Test.Conform(p.Channels, p.Height, p.Width)
	if err != nil {
		return err
	}
	if resized > 0 {
		fmt.Fprintf(e.stderr, "tapeml eval: %d test images resized to the model's %d×%d\n", resized, p.Width, p.Height)
	}
	ds, err := imagedata.NewDataset(test, p, src.Seed)
	if err != nil {
		return err
	}
	r, err := l.trainer.Evaluate(ds)
	if err != nil {
		return err
	}
	if o.asJSON {
		obj := map[string]any{"n": r.N, "checkpoint": c.Dir, "data": src.Path, "model": convnet.Kind}
		if err := addPrivacy(obj, c); err != nil {
			return err
		}
		for _, m := range r.Metrics {
			obj[m.Name] = jsonNumber(m.Value)
		}
		if r.Confusion != nil {
			per := map[string]any{}
			for i, a := range r.Confusion.PerClassAccuracy() {
				per[l.pre.Classes[i]] = a
			}
			obj["per_class_accuracy"] = per
			obj["confusion"] = r.Confusion
		}
		b, err := json.Marshal(obj)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, string(b))
		return nil
	}
	fmt.Fprintf(e.stdout, "%s on %s test split (n=%d): %s\n", c.Dir, src.Path, r.N, formatMetrics(r.Metrics))
	if r.Confusion != nil {
		fmt.Fprint(e.stdout, r.Confusion.Format(l.pre.Classes))
	}
	return nil
}

func predictImage(e env, c *checkpoint.Checkpoint, o predictOptions) error {
	l, err := loadImageModel(c)
	if err != nil {
		return err
	}
	if len(o.inputs) == 0 {
		return fmt.Errorf("no images: give PNG or JPEG files as arguments")
	}
	p := l.pre.Pipeline
	size := p.Channels * p.Height * p.Width
	pixels := make([]float32, 0, size*len(o.inputs))
	for _, path := range o.inputs {
		x, info, err := imagedata.LoadImageFile(path, p)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if note := info.Note(p); note != "" {
			fmt.Fprintf(e.stderr, "tapeml predict: %s: %s\n", path, note)
		}
		pixels = append(pixels, x...)
	}
	ds, err := train.NewTensors([][]float32{pixels}, [][]int{p.Shape()}, make([]float32, len(o.inputs)), nil)
	if err != nil {
		return err
	}
	probs, err := l.trainer.Predict(ds)
	if err != nil {
		return err
	}
	k := len(l.pre.Classes)
	for i, path := range o.inputs {
		row := probs[i*k : (i+1)*k]
		order := make([]int, k)
		for j := range order {
			order[j] = j
		}
		sort.SliceStable(order, func(a, b int) bool { return row[order[a]] > row[order[b]] })
		top := order[:min(o.top, k)]
		if o.asJSON {
			var topList []map[string]any
			for _, j := range top {
				topList = append(topList, map[string]any{"label": j, "class": l.pre.Classes[j], "prob": row[j]})
			}
			b, err := json.Marshal(map[string]any{"file": path, "probs": row, "label": top[0], "class": l.pre.Classes[top[0]], "top": topList})
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, string(b))
			continue
		}
		var parts []string
		for _, j := range top {
			parts = append(parts, fmt.Sprintf("%s %.4f", l.pre.Classes[j], row[j]))
		}
		fmt.Fprintf(e.stdout, "%s\t%s\n", path, strings.Join(parts, "  "))
	}
	return nil
}
