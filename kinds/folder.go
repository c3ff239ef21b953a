package kinds

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/tapeml/tapeml/checkpoint"
)

// A FolderImporter turns a model folder in another framework's layout (a
// Hugging Face model: config.json, model.safetensors, vocab.txt) into a
// weights-only checkpoint of a kind, checking every tensor by name and
// shape before allocating the model.
type FolderImporter func(dir string) (*checkpoint.Checkpoint, error)

var (
	foldersMu sync.RWMutex
	folders   = map[string]FolderImporter{}
)

// RegisterFolderImporter makes ImportFolder(format, …) call f; the kind
// package that reads the format registers it from its init. It panics on
// a format registered twice.
func RegisterFolderImporter(format string, f FolderImporter) {
	foldersMu.Lock()
	defer foldersMu.Unlock()
	if _, dup := folders[format]; dup {
		panic(fmt.Sprintf("kinds: folder format %q registered twice", format))
	}
	folders[format] = f
}

// ImportFolder reads the model folder dir of format ("hf").
func ImportFolder(format, dir string) (*checkpoint.Checkpoint, error) {
	foldersMu.RLock()
	f, ok := folders[format]
	known := make([]string, 0, len(folders))
	for k := range folders {
		known = append(known, k)
	}
	foldersMu.RUnlock()
	if !ok {
		slices.Sort(known)
		return nil, fmt.Errorf("no importer of %q model folders (linked: %s)", format, strings.Join(known, ", "))
	}
	return f(dir)
}
