package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/tapeml/tapeml/internal/atomicfile"
)

// Names inside a run directory.
const (
	IndexFile = "index.json"
	BestDir   = "best"
)

// Dir is a training run's output folder: one checkpoint directory per saved
// epoch (epoch-0001, ...), the most recent Keep of which are kept, plus a
// copy of the best one in best/.
type Dir struct {
	// Root is the run folder, e.g. runs/textcnn-20250101-120000. It is
	// created on the first Save.
	Root string
	// Keep is how many epoch directories to keep, counting by save time;
	// best/ is extra. Zero or less means the default, 3.
	Keep int
}

// runIndex is index.json.
type runIndex struct {
	FormatVersion int `json:"format_version"`
	// Latest is the most recently saved epoch directory.
	Latest string `json:"latest"`
	// BestEpoch is the epoch best/ holds, or -1 if none was saved.
	BestEpoch int `json:"best_epoch"`
	// Checkpoints lists the kept epoch directories, oldest save first.
	Checkpoints []string `json:"checkpoints"`
}

// EpochDirName is the directory name of epoch's checkpoint: epoch-0003.
func EpochDirName(epoch int) string { return fmt.Sprintf("epoch-%04d", epoch) }

// parseEpochDir returns the epoch of an EpochDirName name.
func parseEpochDir(name string) (int, bool) {
	digits, ok := strings.CutPrefix(name, "epoch-")
	if !ok || len(digits) < 4 {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	return n, err == nil && n >= 0 && EpochDirName(n) == name
}

// Save writes c as the checkpoint of epoch, copies it to best/ if isBest,
// records both in index.json and deletes the epoch directories beyond the
// Keep most recently saved. It returns the epoch directory's path. Saving an
// epoch that already exists (after a resume) replaces it.
func (d Dir) Save(c *Checkpoint, epoch int, isBest bool) (string, error) {
	if epoch < 0 {
		return "", fmt.Errorf("checkpoint run %s: epoch %d is negative", d.Root, epoch)
	}
	if err := os.MkdirAll(d.Root, 0o755); err != nil {
		return "", fmt.Errorf("checkpoint run %s: %w", d.Root, err)
	}
	idx, err := d.readIndex()
	if err != nil {
		return "", err
	}
	name := EpochDirName(epoch)
	path := filepath.Join(d.Root, name)
	if err := Save(path, c); err != nil {
		return "", err
	}
	if isBest {
		if err := copyCheckpoint(path, filepath.Join(d.Root, BestDir)); err != nil {
			return "", fmt.Errorf("checkpoint run %s: updating %s: %w", d.Root, BestDir, err)
		}
		idx.BestEpoch = epoch
	}
	idx.Latest = name
	idx.Checkpoints = append(slices.DeleteFunc(idx.Checkpoints, func(s string) bool { return s == name }), name)
	keep := d.Keep
	if keep <= 0 {
		keep = 3
	}
	if n := len(idx.Checkpoints); n > keep {
		idx.Checkpoints = idx.Checkpoints[n-keep:]
	}
	if err := d.writeIndex(idx); err != nil {
		return "", err
	}
	if err := d.prune(idx.Checkpoints); err != nil {
		return "", err
	}
	return path, nil
}

// prune deletes the epoch directories not in kept, and temporary
// directories that crashed saves left behind. It runs after index.json is
// written, so a crash mid-prune only leaves extra directories, which the
// next Save removes.
func (d Dir) prune(kept []string) error {
	entries, err := os.ReadDir(d.Root)
	if err != nil {
		return fmt.Errorf("checkpoint run %s: %w", d.Root, err)
	}
	for _, e := range entries {
		n := e.Name()
		_, isEpoch := parseEpochDir(n)
		stale := isEpoch && e.IsDir() && !slices.Contains(kept, n)
		// Leftovers of interrupted saves: .epoch-0003.tmp-123, .best.old-456, .index.json.tmp-789.
		if strings.HasPrefix(n, ".") && (strings.Contains(n, ".tmp-") || strings.Contains(n, ".old-")) {
			inner := strings.TrimPrefix(n, ".")
			inner = inner[:strings.LastIndex(inner, ".")]
			_, epochTmp := parseEpochDir(inner)
			stale = epochTmp || inner == BestDir || inner == IndexFile
		}
		if stale {
			if err := os.RemoveAll(filepath.Join(d.Root, n)); err != nil {
				return fmt.Errorf("checkpoint run %s: rotating: %w", d.Root, err)
			}
		}
	}
	return nil
}

// Latest returns the most recently saved checkpoint directory.
func (d Dir) Latest() (string, error) {
	idx, err := d.readIndex()
	if err != nil {
		return "", err
	}
	if idx.Latest == "" {
		return "", fmt.Errorf("checkpoint run %s: no checkpoint saved yet (no %s)", d.Root, IndexFile)
	}
	path := filepath.Join(d.Root, idx.Latest)
	if _, err := os.Stat(filepath.Join(path, MetaFile)); err != nil {
		return "", fmt.Errorf("checkpoint run %s: %s names %s, which is missing or incomplete", d.Root, IndexFile, idx.Latest)
	}
	return path, nil
}

// Best returns the best checkpoint's directory, best/.
func (d Dir) Best() (string, error) {
	path := filepath.Join(d.Root, BestDir)
	if _, err := os.Stat(filepath.Join(path, MetaFile)); err != nil {
		return "", fmt.Errorf("checkpoint run %s: no best checkpoint saved (no %s)", d.Root, filepath.Join(BestDir, MetaFile))
	}
	return path, nil
}

// readIndex reads index.json; a missing one is an empty index.
func (d Dir) readIndex() (runIndex, error) {
	path := filepath.Join(d.Root, IndexFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return runIndex{FormatVersion: FormatVersion, BestEpoch: -1}, nil
	}
	if err != nil {
		return runIndex{}, fmt.Errorf("checkpoint run %w", err)
	}
	var idx runIndex
	if err := json.Unmarshal(raw, &idx); err != nil {
		return runIndex{}, fmt.Errorf("checkpoint run %s: invalid JSON: %w", path, err)
	}
	if idx.FormatVersion < 1 || idx.FormatVersion > FormatVersion {
		return runIndex{}, fmt.Errorf("checkpoint run %s: format version %d, this tapeml reads 1 to %d", path, idx.FormatVersion, FormatVersion)
	}
	for _, n := range append(slices.Clone(idx.Checkpoints), idx.Latest) {
		if _, ok := parseEpochDir(n); !ok && n != "" {
			return runIndex{}, fmt.Errorf("checkpoint run %s: %q is not an epoch directory name", path, n)
		}
	}
	return idx, nil
}

// writeIndex replaces index.json atomically.
func (d Dir) writeIndex(idx runIndex) error {
	path := filepath.Join(d.Root, IndexFile)
	idx.FormatVersion = FormatVersion
	raw, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return fmt.Errorf("checkpoint run %s: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, func(w io.Writer) error { _, err := w.Write(append(raw, '\n')); return err }); err != nil {
		return fmt.Errorf("checkpoint run: %w", err)
	}
	return nil
}

// copyCheckpoint atomically replaces dst with a copy of the checkpoint in
// src. Files are hard-linked when possible: checkpoint files are never
// modified in place, only replaced, so sharing them is safe and free.
func copyCheckpoint(src, dst string) (err error) {
	if err := checkReplaceable(dst); err != nil {
		return err
	}
	parent, base := filepath.Split(filepath.Clean(dst))
	tmp, err := os.MkdirTemp(parent, "."+base+".tmp-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		from, to := filepath.Join(src, e.Name()), filepath.Join(tmp, e.Name())
		if os.Link(from, to) == nil {
			continue
		}
		if err := copyFile(from, to); err != nil {
			return err
		}
	}
	if err := atomicfile.SyncDir(tmp); err != nil {
		return err
	}
	return replaceDir(tmp, dst)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	_, err = writeSynced(to, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
	return err
}
