package export

import (
	"fmt"
	"io"
	"strings"

	"github.com/tapeml/tapeml/atomicfile"
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/onnx"
	"github.com/tapeml/tapeml/safetensors"
)

// Format is an export file format.
type Format string

const (
	Safetensors Format = "safetensors" // the PyTorch state_dict, with tapeml metadata
	ONNX        Format = "onnx"        // the inference graph for ONNX Runtime
	HF          Format = "hf"          // a Hugging Face model folder (config.json, model.safetensors, vocab.txt, tokenizer_config.json)
)

// Formats lists the export formats.
var Formats = []Format{Safetensors, ONNX, HF}

// Folder reports whether the format is a folder of files rather than one
// file.
func (f Format) Folder() bool { return f == HF }

// ParseFormat reads a format name as a user types it.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if strings.EqualFold(s, string(f)) {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown export format %q (want safetensors, onnx or hf)", s)
}

// metaTorchFormat is what safetensors.torch.save_file writes; PyTorch
// tools look for it.
const metaTorchFormat = "format"

// onnxGraph is a kind configuration that has an ONNX form: its inference
// graph, built with package onnx on the checkpoint's weights.
type onnxGraph interface {
	ONNX(weights []safetensors.Tensor) (*onnx.Model, error)
}

// Options are export settings beyond the format.
type Options struct {
	// Dequantize writes an int8 checkpoint's ONNX graph in float32 with
	// its weights dequantized, for runtimes without QDQ support. By
	// default an int8 checkpoint's ONNX graph is in QDQ form: int8
	// weights and the activation quantization of tapeml's int8 kernels
	// (package onnx), which ONNX Runtime runs with its int8 kernels.
	Dequantize bool
}

// MetaONNXWeights is the ONNX metadata key that says how an exported
// graph holds its weights: "float32", "int8 (QDQ)" or "float32
// (dequantized from int8)".
const MetaONNXWeights = "tapeml.onnx_weights"

// WriteFile is WriteFileOptions with the default options.
func WriteFile(c *checkpoint.Checkpoint, f Format, path string) error {
	return WriteFileOptions(c, f, path, Options{})
}

// WriteFileOptions exports the checkpoint c to path in format f, atomically: on
// any error nothing is left at path (and a previous file there is kept).
// It replaces only a regular file, never the checkpoint's own files (a
// path inside its folder, or the .safetensors it was read from) nor a
// device, FIFO or symbolic link (atomicfile.ErrRefused); whether an
// existing file may be replaced at all is the caller's choice
// (CheckOutput). A folder format (HF) writes the folder path as a whole
// and replaces only a folder of its own (CheckOutput's rule).
func WriteFileOptions(c *checkpoint.Checkpoint, f Format, path string, opt Options) error {
	if err := CheckOutput(f, path, true, c.Dir, c.Source); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	k, cfg, err := kinds.Describe(c.Meta.ModelKind, c.Meta.ModelConfig, checkpointName(c))
	if err != nil {
		return err
	}
	switch f {
	case HF:
		if err := writeHF(k, cfg, c, path); err != nil {
			return fmt.Errorf("%s: Hugging Face export: %w", checkpointName(c), err)
		}
		return nil
	case Safetensors:
		md := checkpoint.Metadata(c)
		md[metaTorchFormat] = "pt"
		return safetensors.WriteFile(path, c.Weights, md)
	case ONNX:
		body, err := onnxBytes(k, cfg, c, opt)
		if err != nil {
			return fmt.Errorf("%s: ONNX export: %w", checkpointName(c), err)
		}
		return atomicfile.WriteFile(path, func(w io.Writer) error {
			_, err := w.Write(body)
			return err
		})
	}
	return fmt.Errorf("unknown export format %q (want safetensors, onnx or hf)", string(f))
}

// onnxBytes builds and encodes the inference graph of the checkpoint.
func onnxBytes(k *kinds.Kind, cfg kinds.Config, c *checkpoint.Checkpoint, opt Options) ([]byte, error) {
	og, ok := cfg.(onnxGraph)
	if net, err := cfg.Network(); !ok || err != nil || net == nil {
		return nil, fmt.Errorf("%s is not a network with an ONNX form: ONNX export covers %s (safetensors export covers it)", kinds.Name(k, cfg), strings.Join(onnxKinds(), ", "))
	}
	// An int8 checkpoint's weights are checked here; the builder writes
	// those it is given in int8 form as QDQ (package onnx), or, with
	// Dequantize, the float32 graph of the dequantized weights.
	dc, info, _, err := c.Dequantized()
	if err != nil {
		return nil, err
	}
	weights, form := c.Weights, "int8 (QDQ)"
	switch {
	case info == nil:
		form = "float32"
	case opt.Dequantize:
		weights, form = dc.Weights, "float32 (dequantized from int8)"
	}
	g, err := og.ONNX(weights)
	if err != nil {
		return nil, err
	}
	// The checkpoint's kind and configs replace the builder's kind ("recsys"
	// rather than the package's "mf"); its architecture config stays.
	if g.Metadata == nil {
		g.Metadata = map[string]string{}
	}
	for key, v := range checkpoint.Metadata(c) {
		g.Metadata[key] = v
	}
	g.Metadata[MetaONNXWeights] = form
	return g.Marshal()
}

// onnxKinds lists the kinds (and algorithms) that have an ONNX form.
func onnxKinds() []string {
	var out []string
	for _, name := range kinds.Names() {
		k, _ := kinds.Lookup(name)
		if _, ok := k.Default().(onnxGraph); ok {
			if a, ok := k.Default().(interface{ Algo() string }); ok {
				name += " " + a.Algo()
			}
			out = append(out, name)
		}
	}
	return out
}

// checkpointName names a checkpoint in errors.
func checkpointName(c *checkpoint.Checkpoint) string {
	switch {
	case c.Dir != "":
		return "checkpoint " + c.Dir
	case c.Source != "":
		return c.Source
	}
	return "checkpoint"
}
