package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/export"
	"github.com/tapeml/tapeml/kinds"
)

// exportCmd writes a checkpoint's model as safetensors (for PyTorch),
// ONNX (for ONNX Runtime) or a Hugging Face model folder.
func exportCmd(e env) *cobra.Command {
	var ckpt, format, out string
	var force, dequantize bool
	c := &cobra.Command{
		Use:   "export --checkpoint DIR [--format safetensors|onnx|hf] --out FILE|DIR [--dequantize] [--force]",
		Short: "export a checkpoint as safetensors (PyTorch), ONNX or a Hugging Face model folder",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			f, err := export.ParseFormat(format)
			if err != nil {
				return usagef("--format: %v", err)
			}
			switch {
			case out == "" && f.Folder():
				return usagef("--out is required: the folder to write")
			case out == "":
				return usagef("--out is required: the file to write")
			case ckpt == "":
				return usagef("--checkpoint is required")
			case dequantize && f != export.ONNX:
				return usagef("--dequantize is for --format onnx (the %s export keeps an int8 checkpoint's tensors as they are)", f)
			}
			if fi, err := os.Lstat(out); err == nil && fi.IsDir() && !f.Folder() {
				return usagef("--out %s is a directory: give a file name", out)
			}
			if err := export.CheckOutput(f, out, force); err != nil {
				return err
			}
			c, err := checkpoint.Open(ckpt, checkpoint.PickBest)
			if err != nil {
				return err
			}
			stop := exitOnInterrupt(e, "export")
			defer stop()
			if err := export.WriteFileOptions(c, f, out, export.Options{Dequantize: dequantize}); err != nil {
				return err
			}
			size, err := outputSize(out)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "exported %s (%s) from %s to %s (%d bytes)\n", c.Meta.ModelKind, f, c.Dir, out, size)
			return nil
		},
	}
	fs := c.Flags()
	fs.StringVar(&ckpt, "checkpoint", "", "checkpoint directory or run folder (its best checkpoint)")
	fs.StringVar(&format, "format", "safetensors", "safetensors (PyTorch state_dict with tapeml metadata), onnx (inference graph, opset 13) or hf (Hugging Face model folder: config.json, model.safetensors, vocab.txt, tokenizer_config.json)")
	fs.StringVar(&out, "out", "", "file to write, or folder for hf (replaced atomically)")
	fs.BoolVar(&force, "force", false, "replace an existing --out file, or a folder an earlier hf export wrote")
	fs.BoolVar(&dequantize, "dequantize", false, "onnx of an int8 checkpoint: write the float32 graph of its dequantized weights instead of the QDQ graph (int8 weights, QuantizeLinear/DequantizeLinear, run by ONNX Runtime's int8 kernels)")
	return c
}

// outputSize is the size of the file path, or of the files of the
// folder path.
func outputSize(path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	if !fi.IsDir() {
		return fi.Size(), nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, en := range entries {
		if info, err := en.Info(); err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
	}
	return n, nil
}

// importCmd turns a safetensors file of one of tapeml's models (exported,
// or saved by PyTorch) into a weights-only checkpoint.
func importCmd(e env) *cobra.Command {
	var weights, like, out, hf string
	var force bool
	c := &cobra.Command{
		Use:   "import (--weights FILE [--like DIR] | --hf DIR) --out DIR [--force]",
		Short: "turn a safetensors state_dict or a Hugging Face model folder into a checkpoint",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			switch {
			case hf != "" && (weights != "" || like != ""):
				return usagef("--hf reads a whole model folder: drop --weights and --like")
			case hf == "" && weights == "":
				return usagef("--weights or --hf is required: the safetensors file or the Hugging Face model folder to import")
			case out == "":
				return usagef("--out is required: the checkpoint directory to create")
			}
			// save writes the imported checkpoint and says what it holds.
			save := func(c *checkpoint.Checkpoint, what string) error {
				stop := exitOnInterrupt(e, "import")
				defer stop()
				if err := checkpoint.Save(out, c); err != nil {
					return err
				}
				abs, _ := filepath.Abs(out)
				fmt.Fprintf(e.stdout, "imported %s into %s (weights only: eval, predict, train --init)\n", what, abs)
				return nil
			}
			if hf != "" {
				if err := checkpoint.CheckOutput(out, force, hf); err != nil {
					return err
				}
				c, err := kinds.ImportFolder("hf", hf)
				if err != nil {
					return err
				}
				return save(c, fmt.Sprintf("the Hugging Face %s model %s", c.Meta.ModelKind, hf))
			}
			if err := checkpoint.CheckOutput(out, force, weights); err != nil {
				return err
			}
			var base *checkpoint.Checkpoint
			if like != "" {
				var err error
				if base, err = checkpoint.Open(like, checkpoint.PickBest); err != nil {
					return fmt.Errorf("--like: %w", err)
				}
			}
			c, err := kinds.Import(weights, base)
			if err != nil {
				var missing *checkpoint.MissingMetadataError
				if errors.As(err, &missing) {
					return fmt.Errorf("%w (--like DIR)", err)
				}
				return err
			}
			if base != nil { // the checkpoint --like resolved to
				if err := checkpoint.CheckOutput(out, force, base.Dir); err != nil {
					return err
				}
			}
			return save(c, fmt.Sprintf("%s weights from %s", c.Meta.ModelKind, weights))
		},
	}
	fs := c.Flags()
	fs.StringVar(&weights, "weights", "", "safetensors file holding the model's state_dict")
	fs.StringVar(&hf, "hf", "", "a Hugging Face model folder (config.json, model.safetensors, vocab.txt or tokenizer.json): BertForSequenceClassification, BertModel or DistilBertForSequenceClassification")
	fs.StringVar(&like, "like", "", "a tapeml checkpoint of the same model whose config and preprocessing to use (default: the file's tapeml metadata)")
	fs.StringVar(&out, "out", "", "checkpoint directory to create")
	fs.BoolVar(&force, "force", false, "replace an existing checkpoint at --out")
	return c
}
