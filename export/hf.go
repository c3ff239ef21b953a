package export

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tapeml/tapeml/atomicfile"
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/safetensors"
)

// hfWeights is the weights file of a Hugging Face model folder.
const hfWeights = "model.safetensors"

// hfForm is a kind configuration that has a Hugging Face form: the
// tensors of model.safetensors under Hugging Face's names, and the folder's
// other files by name (config.json, vocab.txt, tokenizer_config.json), made
// from the checkpoint's weights and preprocessing (models/transformer).
type hfForm interface {
	HF(weights []safetensors.Tensor, preprocessing []byte) ([]safetensors.Tensor, map[string][]byte, error)
}

// hfFiles are the files a Hugging Face export writes; a folder holding
// only these (config.json among them) is one it may replace.
var hfFiles = []string{"config.json", hfWeights, "vocab.txt", "tokenizer_config.json"}

// CheckOutput reports whether an export in format f may be written at
// path, made from inputs (the checkpoint's folder or file): for a file
// format atomicfile.CheckFile's rules; for a folder format (HF) a missing
// path or an empty folder, or with replace a folder holding only files a
// Hugging Face export writes — never a folder with other files (a
// tokenizer.json, a README), a file, a symbolic link or a device.
func CheckOutput(f Format, path string, replace bool, inputs ...string) error {
	if f.Folder() {
		return atomicfile.CheckFolder(path, "a Hugging Face model folder written by tapeml export", replace, isHFExport, inputs...)
	}
	return atomicfile.CheckFile(path, replace, inputs...)
}

// isHFExport reports whether dir is a folder a Hugging Face export wrote:
// config.json and otherwise only files of hfFiles, all regular.
func isHFExport(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	config := false
	for _, e := range entries {
		if !e.Type().IsRegular() || !slices.Contains(hfFiles, e.Name()) {
			return false
		}
		config = config || e.Name() == "config.json"
	}
	return config
}

// writeHF writes the checkpoint's Hugging Face form as the folder path.
func writeHF(k *kinds.Kind, cfg kinds.Config, c *checkpoint.Checkpoint, path string) error {
	form, ok := cfg.(hfForm)
	if !ok {
		return fmt.Errorf("%s has no Hugging Face form: Hugging Face export covers %s", kinds.Name(k, cfg), strings.Join(hfKinds(), ", "))
	}
	if _, int8 := c.Extra[checkpoint.QuantizationFile]; int8 {
		return fmt.Errorf("an int8 checkpoint: Hugging Face's classes load float32 weights; export the float32 checkpoint it was quantized from")
	}
	tensors, files, err := form.HF(c.Weights, c.Meta.Preprocessing)
	if err != nil {
		return err
	}
	for name := range files {
		if !slices.Contains(hfFiles, name) || name == hfWeights {
			return fmt.Errorf("the kind's Hugging Face form has a file %q: an export writes %s", name, strings.Join(hfFiles, ", "))
		}
	}
	return atomicfile.WriteFolder(path, func(tmp string) error {
		if err := safetensors.WriteFile(filepath.Join(tmp, hfWeights), tensors, map[string]string{metaTorchFormat: "pt"}); err != nil {
			return err
		}
		for name, body := range files {
			if err := atomicfile.WriteFile(filepath.Join(tmp, name), func(w io.Writer) error {
				_, err := w.Write(body)
				return err
			}); err != nil {
				return err
			}
		}
		return nil
	})
}

// hfKinds lists the kinds that have a Hugging Face form.
func hfKinds() []string {
	var out []string
	for _, name := range kinds.Names() {
		k, _ := kinds.Lookup(name)
		if _, ok := k.Default().(hfForm); ok {
			out = append(out, name)
		}
	}
	return out
}
