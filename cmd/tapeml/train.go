package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/text"
	"github.com/tapeml/tapeml/textclass"
	"github.com/tapeml/tapeml/textdata"
	"github.com/tapeml/tapeml/train"
)

func runTrain(e env, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintf(e.stdout, "Usage: tapeml train MODEL [flags]; models: %s. 'tapeml train MODEL --help' lists the flags.\n", strings.Join(kinds.Names(), ", "))
			return flag.ErrHelp
		}
		for _, a := range args {
			if _, err := kinds.Lookup(a); err == nil {
				return usagef("the model goes first: tapeml train %s [flags]", a)
			}
		}
		return usagef("missing model: tapeml train MODEL [flags] (models: %s)", strings.Join(kinds.Names(), ", "))
	}
	k, err := lookupKind(args[0])
	if err != nil {
		return err
	}
	if k.Family != kinds.Text {
		return familyTrain[k.Family](e, k.Name, args[1:])
	}
	fs := newFlags(e, "train", "tapeml train "+k.Name+" [flags]")
	arch := textArchFlags[k.Name](fs)
	_, tc := k.Defaults()
	dataPath := fs.String("data", "", "training data: an aclImdb-style folder, a folder per label, the SpamAssassin npm package (folder or .tgz), or a .csv; default: the built-in SpamAssassin sample")
	fs.IntVar(&tc.Epochs, "epochs", tc.Epochs, "passes over the training set (with --resume: the total to reach)")
	fs.IntVar(&tc.Batch, "batch", tc.Batch, "examples per step")
	fs.Float64Var(&tc.LR, "lr", tc.LR, "learning rate")
	fs.Uint64Var(&tc.Seed, "seed", tc.Seed, "seed for initialization, the data split, shuffling and dropout")
	addOptimizerFlags(fs, &tc)
	fs.StringVar(&tc.Monitor, "monitor", "val/loss", "metric that picks the best epoch")
	fs.IntVar(&tc.Patience, "patience", 0, "stop after this many epochs without improvement (0 = never)")
	fs.IntVar(&tc.Keep, "keep", 3, "epoch checkpoints kept besides the best")
	out := fs.String("out", "", "run folder for checkpoints (default runs/MODEL-TIME)")
	resume := fs.String("resume", "", "continue the run whose checkpoint (or run folder) this is")
	force := fs.Bool("force", false, "train afresh into an --out that holds a run, deleting its checkpoints")
	initFrom := fs.String("init", "", "fine-tune: start from this checkpoint's weights (or a run folder's best; e.g. one made by tapeml import), keeping its architecture and tokenizer; the optimizer and epochs start afresh")
	threads := fs.Int("threads", 0, "CPU threads (default: all); the same seed and thread count give the same weights")
	keepHeaders := fs.Bool("keep-headers", false, "keep e-mail headers (default: dropped)")
	keepHTML := fs.Bool("keep-html", false, "keep HTML markup (default: reduced to text)")
	textCol := fs.String("text-column", "text", "CSV column holding the text")
	labelCol := fs.String("label-column", "label", "CSV column holding the label")
	padding := fs.String("padding", "pre", "pad_sequences padding: pre or post")
	truncating := fs.String("truncating", "pre", "pad_sequences truncating: pre (keep a text's last words) or post (keep its first)")
	dpf := addDPFlags(fs)
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q; texts to classify go to 'tapeml predict'", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *threads < 0 {
		return fmt.Errorf("--threads must be positive, got %d", *threads)
	}
	if *threads > 0 {
		runtime.GOMAXPROCS(*threads)
	}
	if set["data"] && *dataPath == "" {
		return fmt.Errorf("--data is empty: give a file or folder")
	}
	src := kinds.TextSource{Path: *dataPath, Options: textdata.TextOptions{CleanOptions: text.CleanOptions{KeepHeaders: *keepHeaders, KeepHTML: *keepHTML}, TextColumn: *textCol, LabelColumn: *labelCol, Seed: tc.Seed}}
	if src.Path == "" {
		src.Path = kinds.BuiltinText
	}

	var prev, start *kinds.Loaded
	if *initFrom != "" {
		if *resume != "" {
			return fmt.Errorf("--init and --resume exclude each other: --resume continues a run, --init starts a new one from its weights")
		}
		if start, err = kinds.Open(*initFrom, checkpoint.PickBest); err != nil {
			return fmt.Errorf("--init: %w", err)
		}
		if start.Spec.Kind != k {
			return fmt.Errorf("--init %s holds a %s model, not %s", start.Checkpoint.Dir, start.Spec, k.Name)
		}
		// The architecture and the tokenizer are the checkpoint's; a flag
		// that would change them is a mistake.
		archFlags := flag.NewFlagSet("", flag.ContinueOnError)
		textArchFlags[k.Name](archFlags)
		archFlags.String("padding", "", "")
		archFlags.String("truncating", "", "")
		var clash []string
		archFlags.VisitAll(func(f *flag.Flag) {
			if set[f.Name] {
				clash = append(clash, "--"+f.Name)
			}
		})
		if len(clash) > 0 {
			return fmt.Errorf("--init keeps the architecture and tokenizer of %s: drop %s", start.Checkpoint.Dir, strings.Join(clash, ", "))
		}
		arch = start.Spec.Arch.(kinds.TextArch)
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
		if prev.Spec.Kind != k {
			return fmt.Errorf("--resume %s holds a %s model, not %s", c.Dir, prev.Spec, k.Name)
		}
		epochs := prev.Training.Epochs
		if set["epochs"] {
			epochs = tc.Epochs
		}
		tc, arch = prev.Training, prev.Spec.Arch.(kinds.TextArch)
		tc.Epochs = epochs
		if !set["data"] {
			src = prev.Text.Run.Data
		}
		if *out == "" {
			*out = runRoot(c.Dir)
		}
	}
	dpc, err := dpf.config(set, prev != nil)
	if err != nil {
		return err
	}
	if dpc != nil {
		tc.DP = dpc
	}
	// Validate before defaults so an explicit --batch 0 is an error, not "default".
	if err := tc.Validate(); err != nil {
		return err
	}
	if *out == "" {
		*out = filepath.Join("runs", k.Name+"-"+time.Now().Format("20060102-150405"))
	}
	release, err := startRun(*out, continues(prev, *out), *force)
	if err != nil {
		return err
	}
	defer release()
	tc = tc.Defaults()
	corpus, err := src.Load()
	if err != nil {
		return err
	}
	if prev != nil && src.Path != kinds.BuiltinText {
		src.Path, _ = filepath.Abs(src.Path)
	}
	var pre *text.Preprocess
	switch {
	case prev != nil:
		pre = prev.Text.Pre
	case start != nil:
		pre = start.Text.Pre // the embedding rows follow its vocabulary
	default:
		for _, v := range []struct{ flag, value string }{{"padding", *padding}, {"truncating", *truncating}} {
			if v.value != "pre" && v.value != "post" {
				return fmt.Errorf("--%s %q: want pre or post", v.flag, v.value)
			}
		}
		if err := arch.Validate(); err != nil {
			return err
		}
		if pre, err = textclass.Fit(corpus, src.Options.CleanOptions, arch.Vocab(), arch.SeqLen()); err != nil {
			return err
		}
		pre.Pad.Padding, pre.Pad.Truncating = *padding, *truncating
	}
	if err := arch.Validate(); err != nil {
		return err
	}
	archJSON, err := json.Marshal(arch)
	if err != nil {
		return err
	}
	model, err := k.Network(arch)
	if err != nil {
		return err
	}
	trainSet, err := textclass.Dataset(pre, corpus.Train)
	if err != nil {
		return err
	}
	valSet, err := textclass.Dataset(pre, corpus.Val)
	if err != nil {
		return err
	}
	testSet, err := textclass.Dataset(pre, corpus.Test)
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
	t.Progress = e.stdout
	t.Saver = &train.Saver{
		Dir:  checkpoint.Dir{Root: *out, Keep: tc.Keep},
		Info: train.RunInfo{Kind: k.Name, Config: kinds.TextRun{Model: archJSON, Data: src}, Preprocessing: pre},
	}
	fmt.Fprintf(e.stdout, "%s: %d parameters; data %s: %d train, %d val, %d test (classes %v); %d epochs, batch %d, %s lr %g\n",
		k.Name, params.Count(), src.Path, trainSet.Len(), valSet.Len(), testSet.Len(), pre.Classes, tc.Epochs, tc.Batch, tc.Optimizer.Name, tc.LR)
	_, best, err := fitAndTest(e, t, trainSet, valSet, testSet, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "checkpoint: %s\n", best)
	return nil
}

// fitAndTest trains, reloads the best epoch's weights from the run folder
// and evaluates them on the test set, printing what a user wants to know.
// The caller holds the run folder's lock (startRun). Ctrl-C or SIGTERM
// stops the training before the next batch (see fit).
func fitAndTest(e env, t *train.Trainer, trainSet, valSet, testSet dataset.Dataset, out string) (metrics.Result, string, error) {
	ctx, stop := trainContext(e)
	defer stop()
	start := time.Now()
	if err := fit(ctx, t, trainSet, valSet, out, true); err != nil {
		return metrics.Result{}, "", err
	}
	best, err := checkpoint.Resolve(out, checkpoint.PickBest)
	if err != nil {
		return metrics.Result{}, "", err
	}
	bestCk, err := checkpoint.Load(best)
	if err != nil {
		return metrics.Result{}, "", err
	}
	if err := checkpoint.LoadWeights(t.Program.Params(), bestCk.Weights, best); err != nil {
		return metrics.Result{}, "", err
	}
	r, err := t.Evaluate(ctx, testSet)
	if errors.Is(err, context.Canceled) {
		return metrics.Result{}, "", &interruptedError{fmt.Sprintf("interrupted while testing; the training is complete: tapeml eval --checkpoint %s", shellQuote(out))}
	}
	if err != nil {
		return metrics.Result{}, "", err
	}
	fmt.Fprintf(e.stdout, "trained in %s; best epoch %d by %s\n", time.Since(start).Round(time.Second/10), bestCk.Meta.Epoch, t.Config.Monitor)
	fmt.Fprintf(e.stdout, "test (best epoch, n=%d): %s\n", r.N, formatMetrics(r.Metrics))
	return r, best, nil
}

// openCheckpoint resolves a checkpoint or run folder and loads it, checking
// every file.
func openCheckpoint(path string, pick checkpoint.Pick) (*checkpoint.Checkpoint, error) {
	if path == "" {
		return nil, fmt.Errorf("--checkpoint is required")
	}
	return checkpoint.Open(path, pick)
}

// runRoot is the run folder of a checkpoint directory (its parent).
func runRoot(dir string) string { return filepath.Dir(filepath.Clean(dir)) }

// continues reports whether a training resumed from prev writes into prev's
// own run folder (out), so that folder's epochs are its own.
func continues(prev *kinds.Loaded, out string) bool {
	if prev == nil {
		return false
	}
	a, err1 := filepath.Abs(runRoot(prev.Checkpoint.Dir))
	b, err2 := filepath.Abs(out)
	return err1 == nil && err2 == nil && a == b
}

func formatMetrics(ms []metrics.Named) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, fmt.Sprintf("%s %.4f", m.Name, m.Value))
	}
	return strings.Join(parts, "  ")
}
