package export

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tapeml/tapeml/kinds"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/internal/atomicfile"
	"github.com/tapeml/tapeml/safetensors"
)

// Format is an export file format.
type Format string

const (
	Safetensors Format = "safetensors" // the PyTorch state_dict, with tapeml metadata
	ONNX        Format = "onnx"        // the inference graph for ONNX Runtime
)

// Formats lists the export formats.
var Formats = []Format{Safetensors, ONNX}

// ParseFormat reads a format name as a user types it.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if strings.EqualFold(s, string(f)) {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown export format %q (want safetensors or onnx)", s)
}

// Metadata keys of exported files: the safetensors __metadata__ and the
// ONNX metadata_props. Values are JSON except MetaKind and
// MetaFormatVersion, which are plain strings.
const (
	MetaKind          = "tapeml.kind"           // model kind: textcnn, lstm, convnet, recsys
	MetaConfig        = "tapeml.model_config"   // the checkpoint's model_config
	MetaPreprocessing = "tapeml.preprocessing"  // the checkpoint's preprocessing
	MetaTraining      = "tapeml.training"       // the training configuration (optimizer, lr, batch)
	MetaFormatVersion = "tapeml.format_version" // checkpoint.FormatVersion of the exporter
	MetaQuantization  = "tapeml.quantization"   // an int8 checkpoint's quantization.json (its tensors are W.int8, W.scale, …; see kinds)
	// metaTorchFormat is what safetensors.torch.save_file writes; PyTorch
	// tools look for it.
	metaTorchFormat = "format"
)

// Metadata is the metadata WriteFile puts in an exported file.
func Metadata(c *checkpoint.Checkpoint) map[string]string {
	md := map[string]string{
		MetaKind:          c.Meta.ModelKind,
		MetaFormatVersion: strconv.Itoa(checkpoint.FormatVersion),
	}
	if len(c.Meta.ModelConfig) > 0 {
		md[MetaConfig] = string(c.Meta.ModelConfig)
	}
	if len(c.Meta.Preprocessing) > 0 {
		md[MetaPreprocessing] = string(c.Meta.Preprocessing)
	}
	if len(c.Meta.Optimizer) > 0 {
		md[MetaTraining] = string(c.Meta.Optimizer)
	}
	if q, ok := c.Extra[kinds.QuantizationFile]; ok {
		md[MetaQuantization] = string(q)
	}
	return md
}

// WriteFile exports the checkpoint c to path in format f, atomically: on
// any error nothing is left at path (and a previous file there is kept).
func WriteFile(c *checkpoint.Checkpoint, f Format, path string) error {
	var body []byte
	switch f {
	case Safetensors:
		if _, err := kinds.Describe(c.Meta.ModelKind, c.Meta.ModelConfig, checkpointName(c)); err != nil {
			return err
		}
		md := Metadata(c)
		md[metaTorchFormat] = "pt"
		return safetensors.WriteFile(path, c.Weights, md)
	case ONNX:
		m, err := kinds.Describe(c.Meta.ModelKind, c.Meta.ModelConfig, checkpointName(c))
		if err != nil {
			return err
		}
		if body, err = onnxModel(m, c); err != nil {
			return fmt.Errorf("%s: ONNX export: %w", checkpointName(c), err)
		}
	default:
		return fmt.Errorf("unknown export format %q (want safetensors or onnx)", string(f))
	}
	return atomicfile.WriteFile(path, func(w io.Writer) error {
		_, err := w.Write(body)
		return err
	})
}

// checkpointName names a checkpoint in errors.
func checkpointName(c *checkpoint.Checkpoint) string {
	if c.Dir != "" {
		return "checkpoint " + c.Dir
	}
	return "checkpoint"
}
