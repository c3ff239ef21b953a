package checkpoint

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tapeml/tapeml/safetensors"
)

// A checkpoint packs into one .safetensors file (tapeml export): its
// weights as the tensors, and its kind, configuration, preprocessing and
// training configuration in the __metadata__, so the file alone loads,
// predicts and fine-tunes. An int8 checkpoint keeps its int8 tensors and
// carries quantization.json in the metadata.

// Metadata keys of a packed checkpoint: the safetensors __metadata__ (and
// the ONNX metadata_props of an exported graph). Values are JSON except
// MetaKind and MetaFormatVersion, which are plain strings.
const (
	MetaKind          = "tapeml.kind"           // model kind: textcnn, lstm, convnet, recsys
	MetaConfig        = "tapeml.model_config"   // the checkpoint's model_config
	MetaPreprocessing = "tapeml.preprocessing"  // the checkpoint's preprocessing
	MetaTraining      = "tapeml.training"       // the training configuration (optimizer, lr, batch)
	MetaFormatVersion = "tapeml.format_version" // FormatVersion of the writer
	MetaQuantization  = "tapeml.quantization"   // an int8 checkpoint's quantization.json
	MetaPrivacy       = "tapeml.privacy"        // a DP checkpoint's privacy (ε, δ, σ, C, q, steps, noise source)
)

// Metadata is the metadata that describes c in a packed file.
func Metadata(c *Checkpoint) map[string]string {
	md := map[string]string{
		MetaKind:          c.Meta.ModelKind,
		MetaFormatVersion: strconv.Itoa(FormatVersion),
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
	if len(c.Meta.Privacy) > 0 {
		md[MetaPrivacy] = string(c.Meta.Privacy)
	}
	if q, ok := c.Extra[QuantizationFile]; ok {
		md[MetaQuantization] = string(q)
	}
	return md
}

// ReadSafetensors reads the .safetensors file at path as a weights-only
// checkpoint, not yet saved: a packed checkpoint (Metadata), or plain
// weights (as PyTorch's save_file writes them) whose kind, configuration
// and preprocessing come from like, a checkpoint of the same model. With
// like, like's extra files (a recommender's training ratings, for
// instance) are carried over, but not its training history.
//
// It only decodes: whether the tensors fit the model is for the kind to
// check (kinds.Decode), before anything of the declared sizes is
// allocated.
func ReadSafetensors(path string, like *Checkpoint) (*Checkpoint, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if err := safetensors.CheckFinite(f.Tensors); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if v, ok := f.Metadata[MetaFormatVersion]; ok {
		if n, err := strconv.Atoi(v); err != nil || n < 1 || n > FormatVersion {
			return nil, fmt.Errorf("%s: __metadata__ %s is %q; this tapeml reads format versions 1 to %d", path, MetaFormatVersion, v, FormatVersion)
		}
	}
	c := &Checkpoint{Weights: f.Tensors}
	c.Meta.WeightsOnly = true
	fileKind := f.Metadata[MetaKind]
	switch {
	case like != nil:
		if fileKind != "" && fileKind != like.Meta.ModelKind {
			return nil, fmt.Errorf("%s holds a %s model (its __metadata__ says so), but %s is a %s model", path, fileKind, like.name(), like.Meta.ModelKind)
		}
		c.Meta.ModelKind, c.Meta.ModelConfig, c.Meta.Preprocessing = like.Meta.ModelKind, like.Meta.ModelConfig, like.Meta.Preprocessing
		c.Meta.Optimizer = like.Meta.Optimizer // the training configuration, kept for fine-tuning
		for name, b := range like.Extra {
			// The training history belongs to the run that made like, and
			// whether the weights are int8 is the file's to say.
			if strings.HasPrefix(name, "history.") || name == QuantizationFile {
				continue
			}
			if c.Extra == nil {
				c.Extra = map[string][]byte{}
			}
			c.Extra[name] = b
		}
	case fileKind == "":
		return nil, &MissingMetadataError{Path: path}
	default:
		c.Meta.ModelKind = fileKind
		for key, dst := range map[string]*json.RawMessage{MetaConfig: &c.Meta.ModelConfig, MetaPreprocessing: &c.Meta.Preprocessing, MetaTraining: &c.Meta.Optimizer, MetaPrivacy: &c.Meta.Privacy} {
			raw, ok := f.Metadata[key]
			if !ok {
				continue
			}
			if !json.Valid([]byte(raw)) {
				return nil, fmt.Errorf("%s: __metadata__ %s is not valid JSON", path, key)
			}
			*dst = json.RawMessage(raw)
		}
	}
	if len(c.Meta.Preprocessing) == 0 {
		return nil, fmt.Errorf("%s: no preprocessing (%s)", path, MetaPreprocessing)
	}
	if q, ok := f.Metadata[MetaQuantization]; ok {
		if c.Extra == nil {
			c.Extra = map[string][]byte{}
		}
		c.Extra[QuantizationFile] = []byte(q)
	}
	c.Source = path
	return c, nil
}

// MissingMetadataError is a .safetensors file without tapeml metadata,
// read without a checkpoint to take its configuration from.
type MissingMetadataError struct{ Path string }

func (e *MissingMetadataError) Error() string {
	return fmt.Sprintf("%s has no tapeml metadata (%s): give a tapeml checkpoint of the same model for its config and preprocessing", e.Path, MetaKind)
}

// name names a checkpoint in errors.
func (c *Checkpoint) name() string {
	switch {
	case c.Dir != "":
		return "checkpoint " + c.Dir
	case c.Source != "":
		return c.Source
	}
	return "checkpoint"
}

// MetaName names where c's metadata was read, for errors: its meta.json,
// a packed file's __metadata__, or "checkpoint" for one made in memory.
func (c *Checkpoint) MetaName() string {
	switch {
	case c.Dir != "":
		return filepath.Join(c.Dir, MetaFile)
	case c.Source != "":
		return c.Source + " __metadata__"
	}
	return "checkpoint"
}
