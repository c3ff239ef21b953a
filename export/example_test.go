package export_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/export"
	"github.com/tapeml/tapeml/kinds"
)

// A checkpoint leaves tapeml as a PyTorch state_dict and comes back.
func Example() {
	c, err := checkpoint.Load(filepath.Join("testdata", "textcnn"))
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "export")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.safetensors")
	if err := export.WriteFile(c, export.Safetensors, path); err != nil {
		log.Fatal(err)
	}
	back, err := kinds.Import(path, nil) // config and tokenizer from the file's metadata
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(back.Meta.ModelKind, len(back.Weights), "tensors, weights only:", back.Meta.WeightsOnly)
	// Output: textcnn 5 tensors, weights only: true
}
