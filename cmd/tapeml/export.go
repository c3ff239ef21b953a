package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/export"
)

// runExport writes a checkpoint's model as safetensors (for PyTorch) or
// ONNX (for ONNX Runtime).
func runExport(e env, args []string) error {
	fs := newFlags(e, "export", "tapeml export --checkpoint DIR [--format safetensors|onnx] --out FILE")
	ckpt := fs.String("checkpoint", "", "checkpoint directory or run folder (its best checkpoint)")
	format := fs.String("format", "safetensors", "safetensors (PyTorch state_dict with tapeml metadata) or onnx (inference graph, opset 13)")
	out := fs.String("out", "", "file to write (replaced atomically)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	f, err := export.ParseFormat(*format)
	if err != nil {
		return fmt.Errorf("--format: %w", err)
	}
	if *out == "" {
		return fmt.Errorf("--out is required: the file to write")
	}
	if fi, err := os.Stat(*out); err == nil && fi.IsDir() {
		return fmt.Errorf("--out %s is a directory: give a file name", *out)
	}
	c, err := openCheckpoint(*ckpt, checkpoint.PickBest)
	if err != nil {
		return err
	}
	if err := export.WriteFile(c, f, *out); err != nil {
		return err
	}
	fi, err := os.Stat(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "exported %s (%s) from %s to %s (%d bytes)\n", c.Meta.ModelKind, f, c.Dir, *out, fi.Size())
	return nil
}

// runImport turns a safetensors file of one of tapeml's models (exported,
// or saved by PyTorch) into a weights-only checkpoint.
func runImport(e env, args []string) error {
	fs := newFlags(e, "import", "tapeml import --weights FILE [--like DIR] --out DIR")
	weights := fs.String("weights", "", "safetensors file holding the model's state_dict")
	like := fs.String("like", "", "a tapeml checkpoint of the same model whose config and preprocessing to use (default: the file's tapeml metadata)")
	out := fs.String("out", "", "checkpoint directory to create")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *weights == "" {
		return fmt.Errorf("--weights is required: the safetensors file to import")
	}
	if *out == "" {
		return fmt.Errorf("--out is required: the checkpoint directory to create")
	}
	var base *checkpoint.Checkpoint
	if *like != "" {
		var err error
		if base, err = openCheckpoint(*like, checkpoint.PickBest); err != nil {
			return fmt.Errorf("--like: %w", err)
		}
	}
	c, err := export.Import(*weights, base)
	if err != nil {
		return err
	}
	if err := checkpoint.Save(*out, c); err != nil {
		return err
	}
	abs, _ := filepath.Abs(*out)
	fmt.Fprintf(e.stdout, "imported %s weights from %s into %s (weights only: eval, predict, train --init)\n", c.Meta.ModelKind, *weights, abs)
	return nil
}
