package textdata

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// loadSplitFolders reads the aclImdb layout: train/, optional val/ and
// test/, each holding one folder of .txt files per label.
func loadSplitFolders(root string, opt TextOptions) (*TextCorpus, error) {
	classes, err := labelFolders(filepath.Join(root, "train"))
	if err != nil {
		return nil, err
	}
	splits := map[string][]TextExample{}
	for _, name := range []string{"train", "val", "test"} {
		dir := filepath.Join(root, name)
		if !isDir(dir) {
			continue
		}
		if name != "train" {
			// Other splits may lack a class but must not add one: a model
			// could never predict it.
			labels, err := labelFolders(dir)
			if err != nil {
				return nil, err
			}
			for _, l := range labels {
				if !slices.Contains(classes, l) {
					return nil, fmt.Errorf("%s: label folder %q is not in train/ (labels %q)", dir, l, classes)
				}
			}
		}
		examples, err := readLabelFolders(dir, classes, opt)
		if err != nil {
			return nil, err
		}
		splits[name] = examples
	}
	return splitGiven(classes, splits["train"], splits["val"], splits["test"], opt.Seed)
}

// loadLabelFolders reads <label>/*.txt and splits it 80/10/10.
func loadLabelFolders(root string, opt TextOptions) (*TextCorpus, error) {
	classes, err := labelFolders(root)
	if err != nil {
		return nil, err
	}
	examples, err := readLabelFolders(root, classes, opt)
	if err != nil {
		return nil, err
	}
	return SplitText(classes, examples, opt.Seed)
}

// labelFolders lists the label folders of dir, sorted, skipping hidden
// folders and aclImdb's unlabelled unsup/.
func labelFolders(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var labels []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") && e.Name() != "unsup" {
			labels = append(labels, e.Name())
		}
	}
	if len(labels) == 0 {
		return nil, fmt.Errorf("%s: no label folders (want <label>/*.txt, one folder per class); %s", dir, expectedFormats)
	}
	slices.Sort(labels) // os.ReadDir sorts already; keep it explicit
	return labels, nil
}

// readLabelFolders reads dir/<class>/*.txt for every class that has a
// folder in dir.
func readLabelFolders(dir string, classes []string, opt TextOptions) ([]TextExample, error) {
	examples := []TextExample{}
	for label, class := range classes {
		classDir := filepath.Join(dir, class)
		entries, err := os.ReadDir(classDir)
		if errors.Is(err, fs.ErrNotExist) {
			continue // val/ and test/ may lack a class
		}
		if err != nil {
			return nil, err
		}
		var paths []string
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".txt") {
				paths = append(paths, filepath.Join(classDir, e.Name()))
			}
		}
		for _, p := range paths {
			text, err := readUTF8(p)
			if err != nil {
				return nil, err
			}
			examples = append(examples, TextExample{Text: opt.Clean(text), Label: label, Source: p})
		}
	}
	return examples, nil
}
