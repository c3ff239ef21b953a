package repo

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/internal/safeio"
)

// HashData hashes the training sources a checkpoint records: a file's
// bytes; a folder's regular files in name order, each with its path
// inside the folder; a built-in set's embedded bytes. The whole's hash
// changes when any file's bytes, name or presence does. A source that
// cannot be read is recorded with its error and leaves the whole's hash
// empty: a card never claims a hash of data it did not read.
func HashData(paths []string) DataCard {
	var d DataCard
	whole := sha256.New()
	ok := len(paths) > 0
	for _, p := range paths {
		src := hashSource(p)
		if src.Error != "" {
			ok = false
		}
		io.WriteString(whole, src.SHA256+"\n")
		d.Sources = append(d.Sources, src)
	}
	if ok {
		d.SHA256 = hex.EncodeToString(whole.Sum(nil))
	}
	return d
}

func hashSource(p string) DataSource {
	src := DataSource{Path: p}
	h := sha256.New()
	var err error
	switch {
	case p == "":
		err = fmt.Errorf("the checkpoint records no data path")
	case dataset.IsBuiltin(p):
		src.Builtin = true
		err = dataset.WriteBuiltinContent(p, h)
	default:
		src.Files, src.Bytes, err = hashTree(p, h)
	}
	if err != nil {
		src.Error = err.Error()
		return src
	}
	src.SHA256 = hex.EncodeToString(h.Sum(nil))
	return src
}

// hashTree writes root's content to h: a regular file's bytes, or each
// regular file under a folder as its slash path, its size and its bytes,
// in name order. Links to files are followed; other special files and
// hidden names (.git, editors' swap files) are not data and are skipped.
func hashTree(root string, h io.Writer) (files int, size int64, err error) {
	info, err := os.Stat(root)
	if err != nil {
		return 0, 0, err
	}
	if !info.IsDir() {
		n, err := hashFile(root, h)
		return 1, n, err
	}
	var names []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != root && d.Name()[0] == '.' {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	slices.Sort(names)
	for _, p := range names {
		if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		rel, _ := filepath.Rel(root, p)
		fmt.Fprintf(h, "%s\x00", filepath.ToSlash(rel))
		n, err := hashFile(p, h)
		if err != nil {
			return 0, 0, err
		}
		fmt.Fprintf(h, "\x00%d\n", n)
		files++
		size += n
	}
	return files, size, nil
}

func hashFile(p string, h io.Writer) (int64, error) {
	f, _, err := safeio.Open(p, -1)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return io.Copy(h, f)
}
