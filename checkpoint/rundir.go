package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tapeml/tapeml/atomicfile"
	"github.com/tapeml/tapeml/internal/safeio"
)

// Names inside a run directory.
const (
	IndexFile = "index.json"
	BestDir   = "best"
)

// Dir is a training run's output folder: one checkpoint directory per saved
// epoch (epoch-0001, ...), the most recent Keep of which are kept, plus the
// best epoch's directory and a copy of it in best/.
type Dir struct {
	// Root is the run folder, e.g. runs/textcnn-20250101-120000. It is
	// created on the first Save.
	Root string
	// Keep is how many epoch directories to keep, counting by save time;
	// the best epoch's directory is kept besides. Zero or less means the
	// default, 3.
	Keep int
}

// runIndex is index.json.
type runIndex struct {
	FormatVersion int `json:"format_version"`
	// Latest is the most recently saved epoch directory.
	Latest string `json:"latest"`
	// BestEpoch is the best epoch, whose directory rotation keeps, or -1
	// if none was saved or its directory was re-saved since (then best/
	// holds it).
	BestEpoch int `json:"best_epoch"`
	// Checkpoints lists the epoch directories this run saved and keeps,
	// oldest save first. Rotation deletes only directories listed here:
	// a directory the index does not list (copied in by a user, or left by
	// a run whose index was lost) is never deleted.
	Checkpoints []string `json:"checkpoints"`

	found   bool      // index.json exists
	written time.Time // its modification time
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
// records both in index.json and deletes the epoch directories that the
// index listed beyond the Keep most recently saved (never the best one).
// It returns the epoch directory's path. Saving an epoch that already
// exists (after a resume) replaces it.
//
// Every step leaves a run that Latest, Best and Open read consistently:
// the epoch directory and best/ are renamed into place complete, and
// index.json, replaced atomically after them, is what readers follow. A
// save interrupted at any point (a kill, a full disk) is repaired by the
// next Save: complete directories it left are adopted, set-aside ones
// restored and temporary ones removed.
func (d Dir) Save(c *Checkpoint, epoch int, isBest bool) (string, error) {
	if epoch < 0 {
		return "", fmt.Errorf("checkpoint run %s: epoch %d is negative", d.Root, epoch)
	}
	if err := fsops.MkdirAll(d.Root, 0o755); err != nil {
		return "", fmt.Errorf("checkpoint run %s: %w", d.Root, err)
	}
	idx, err := d.recover()
	if err != nil {
		return "", err
	}
	// What this run saved, as far as the index says: only these may be
	// rotated out.
	accounted := slices.Clone(idx.Checkpoints)
	if idx.found && idx.BestEpoch >= 0 {
		accounted = append(accounted, EpochDirName(idx.BestEpoch))
	}
	name := EpochDirName(epoch)
	path := filepath.Join(d.Root, name)
	if idx.BestEpoch == epoch && !isBest {
		// About to replace the best epoch's directory (a resumed run
		// re-saving it): readers must turn to best/ first.
		idx.BestEpoch = -1
		if err := d.writeIndex(idx); err != nil {
			return "", err
		}
	}
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
	if err := d.prune(accounted, idx); err != nil {
		return "", err
	}
	return path, nil
}

// recover reads index.json and repairs what an interrupted Save left: a
// directory set aside (.epoch-0003.old-*, .best.old-*) whose replacement
// never arrived is renamed back, and complete epoch directories saved
// after the index's latest (a kill before index.json was written) become
// the latest. It returns the repaired index, not yet written.
func (d Dir) recover() (runIndex, error) {
	idx, err := d.readIndex()
	if err != nil {
		return idx, err
	}
	entries, err := os.ReadDir(d.Root)
	if err != nil {
		return idx, fmt.Errorf("checkpoint run %s: %w", d.Root, err)
	}
	for _, e := range entries {
		target, kind, ok := leftoverOf(e.Name())
		if !ok || kind != "old" {
			continue
		}
		if _, err := os.Lstat(filepath.Join(d.Root, target)); errors.Is(err, fs.ErrNotExist) && complete(filepath.Join(d.Root, e.Name())) {
			if err := fsops.Rename(filepath.Join(d.Root, e.Name()), filepath.Join(d.Root, target)); err != nil {
				return idx, fmt.Errorf("checkpoint run %s: restoring %s: %w", d.Root, target, err)
			}
		}
	}
	for _, name := range d.unlistedNewer(idx) {
		idx.Latest = name
		if idx.found {
			// Saved by this run (an index exists and it is newer than all
			// the index knows), so rotation may delete it in turn.
			idx.Checkpoints = append(idx.Checkpoints, name)
		}
		epoch, _ := parseEpochDir(name)
		if best := bestEpochOf(filepath.Join(d.Root, name)); best == epoch {
			idx.BestEpoch = epoch
		}
	}
	return idx, nil
}

// leftoverOf parses the name of a temporary or set-aside directory or file
// of an interrupted save: ".epoch-0003.tmp-123" → ("epoch-0003", "tmp").
// Only names of run folder entries (epoch directories, best, index.json)
// count.
func leftoverOf(name string) (target, kind string, ok bool) {
	if !strings.HasPrefix(name, ".") {
		return "", "", false
	}
	dot := strings.LastIndex(name, ".")
	if dot <= 0 {
		return "", "", false
	}
	target, suffix := name[1:dot], name[dot+1:]
	kind, _, found := strings.Cut(suffix, "-")
	if !found || (kind != "tmp" && kind != "old" && kind != "del") {
		return "", "", false
	}
	if _, isEpoch := parseEpochDir(target); !isEpoch && target != BestDir && target != IndexFile {
		return "", "", false
	}
	return target, kind, true
}

// complete reports whether dir holds a checkpoint's meta.json: Save
// renames a checkpoint directory into place only once all of it is
// written and synced, so a directory with meta.json is complete.
func complete(dir string) bool {
	info, err := os.Stat(filepath.Join(dir, MetaFile))
	return err == nil && info.Mode().IsRegular()
}

// bestEpochOf returns the best epoch a checkpoint's meta.json records, or
// -1.
func bestEpochOf(dir string) int {
	raw, err := safeio.ReadFile(filepath.Join(dir, MetaFile), MaxMetaBytes)
	if err != nil {
		return -1
	}
	var m struct {
		Best *BestMetric `json:"best"`
	}
	if json.Unmarshal(raw, &m) != nil || m.Best == nil {
		return -1
	}
	return m.Best.Epoch
}

// epochDirs returns the complete epoch directories in the run folder,
// newest epoch first.
func (d Dir) epochDirs() []string {
	entries, _ := os.ReadDir(d.Root)
	var names []string
	for _, e := range entries {
		if _, ok := parseEpochDir(e.Name()); ok && e.IsDir() && complete(filepath.Join(d.Root, e.Name())) {
			names = append(names, e.Name())
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		ea, _ := parseEpochDir(a)
		eb, _ := parseEpochDir(b)
		return eb - ea
	})
	return names
}

// unlistedNewer returns the complete epoch directories the index does not
// know of whose epoch is above its latest and that were written after it,
// oldest first: saves that a kill interrupted before index.json was
// written. (An epoch directory from elsewhere, older than the index, is
// left alone.)
func (d Dir) unlistedNewer(idx runIndex) []string {
	latest := -1
	if e, ok := parseEpochDir(idx.Latest); ok {
		latest = e
	}
	var out []string
	for _, n := range d.epochDirs() {
		e, _ := parseEpochDir(n)
		if e <= latest || n == idx.Latest || slices.Contains(idx.Checkpoints, n) {
			continue
		}
		if idx.found {
			info, err := os.Stat(filepath.Join(d.Root, n, MetaFile))
			if err != nil || !info.ModTime().After(idx.written) {
				continue
			}
		}
		out = append(out, n)
	}
	slices.Reverse(out)
	return out
}

// prune deletes the epoch directories that the previous index listed
// (accounted) and the new one no longer keeps, except the best epoch's,
// and the leftovers of interrupted saves. A directory is renamed to a
// temporary name before it is removed, so a kill mid-removal never leaves
// a partial directory under an epoch name.
func (d Dir) prune(accounted []string, idx runIndex) error {
	for _, n := range accounted {
		if slices.Contains(idx.Checkpoints, n) || n == idx.Latest || (idx.BestEpoch >= 0 && n == EpochDirName(idx.BestEpoch)) {
			continue
		}
		if err := removeDir(d.Root, n); err != nil {
			return fmt.Errorf("checkpoint run %s: rotating: %w", d.Root, err)
		}
	}
	entries, err := os.ReadDir(d.Root)
	if err != nil {
		return fmt.Errorf("checkpoint run %s: %w", d.Root, err)
	}
	for _, e := range entries {
		target, kind, ok := leftoverOf(e.Name())
		if !ok {
			continue
		}
		if kind == "old" {
			// recover restores a complete set-aside copy whose target is
			// missing; otherwise it is an older version of its target, or
			// not a checkpoint at all.
			if _, err := os.Lstat(filepath.Join(d.Root, target)); err != nil && complete(filepath.Join(d.Root, e.Name())) {
				continue
			}
		}
		if err := fsops.RemoveAll(filepath.Join(d.Root, e.Name())); err != nil {
			return fmt.Errorf("checkpoint run %s: removing %s: %w", d.Root, e.Name(), err)
		}
	}
	return nil
}

// removeDir renames root/name aside, then removes it.
func removeDir(root, name string) error {
	reserved, err := fsops.MkdirTemp(root, "."+name+".del-")
	if err != nil {
		return err
	}
	if err := fsops.Remove(reserved); err != nil {
		return err
	}
	if err := fsops.Rename(filepath.Join(root, name), reserved); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	return fsops.RemoveAll(reserved)
}

// Latest returns the most recently saved complete checkpoint directory:
// the one index.json names, or a complete one saved after it that a kill
// kept out of the index; if neither is complete, the newest complete epoch
// directory the index lists, then any other.
func (d Dir) Latest() (string, error) {
	idx, err := d.readIndex()
	if err != nil {
		return "", err
	}
	if newer := d.unlistedNewer(idx); len(newer) > 0 {
		return filepath.Join(d.Root, newer[len(newer)-1]), nil
	}
	if idx.Latest != "" {
		if path := d.existing(idx.Latest); path != "" {
			return path, nil
		}
	}
	for _, n := range slices.Backward(idx.Checkpoints) {
		if complete(filepath.Join(d.Root, n)) {
			return filepath.Join(d.Root, n), nil
		}
	}
	if all := d.epochDirs(); len(all) > 0 {
		return filepath.Join(d.Root, all[0]), nil
	}
	if idx.Latest != "" {
		return "", fmt.Errorf("checkpoint run %s: %s names %s, which is missing or incomplete", d.Root, IndexFile, idx.Latest)
	}
	msg := fmt.Sprintf("checkpoint run %s: no checkpoint saved yet (no %s)", d.Root, IndexFile)
	if left := leftoversIn(d.Root); len(left) > 0 {
		msg += fmt.Sprintf("; an interrupted save left %s", strings.Join(left, ", "))
	}
	return "", errors.New(msg)
}

// existing returns the complete checkpoint directory name, or, while a
// save replacing it is between its two renames, the complete copy set
// aside (.name.old-*); "" if there is neither.
func (d Dir) existing(name string) string {
	if path := filepath.Join(d.Root, name); complete(path) {
		return path
	}
	entries, _ := os.ReadDir(d.Root)
	for _, e := range entries {
		if target, kind, ok := leftoverOf(e.Name()); ok && target == name && kind == "old" {
			if path := filepath.Join(d.Root, e.Name()); complete(path) {
				return path
			}
		}
	}
	return ""
}

// leftoversIn lists the leftovers of interrupted saves in a run folder.
func leftoversIn(root string) []string {
	entries, _ := os.ReadDir(root)
	var found []string
	for _, e := range entries {
		if _, _, ok := leftoverOf(e.Name()); ok {
			found = append(found, filepath.Join(root, e.Name()))
		}
	}
	return found
}

// Best returns the best checkpoint's directory: the best epoch's own
// directory, which is never rewritten while it is the best, so a reader
// never sees it half-replaced; best/ when the index names no best epoch
// directory (runs saved by older tapeml, or after the best epoch was
// re-saved by a resumed run).
func (d Dir) Best() (string, error) {
	idx, err := d.readIndex()
	if err != nil {
		return "", err
	}
	if idx.BestEpoch >= 0 {
		if path := d.existing(EpochDirName(idx.BestEpoch)); path != "" {
			return path, nil
		}
	}
	path := filepath.Join(d.Root, BestDir)
	if !complete(path) {
		return "", fmt.Errorf("checkpoint run %s: no best checkpoint saved (no %s)", d.Root, filepath.Join(BestDir, MetaFile))
	}
	return path, nil
}

// readIndex reads index.json; a missing one is an empty index.
func (d Dir) readIndex() (runIndex, error) {
	path := filepath.Join(d.Root, IndexFile)
	raw, err := safeio.ReadFile(path, MaxMetaBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return runIndex{FormatVersion: FormatVersion, BestEpoch: -1}, nil
	}
	if err != nil {
		return runIndex{}, fmt.Errorf("checkpoint run %w", err)
	}
	idx := runIndex{BestEpoch: -1, found: true}
	if info, err := os.Stat(path); err == nil {
		idx.written = info.ModTime()
	}
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
	if idx.BestEpoch < -1 {
		return runIndex{}, fmt.Errorf("checkpoint run %s: best_epoch %d", path, idx.BestEpoch)
	}
	return idx, nil
}

// writeIndex replaces index.json atomically: a synced temporary file
// renamed over it.
func (d Dir) writeIndex(idx runIndex) (err error) {
	path := filepath.Join(d.Root, IndexFile)
	idx.FormatVersion = FormatVersion
	raw, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return fmt.Errorf("checkpoint run %s: %w", path, err)
	}
	tmp := filepath.Join(d.Root, fmt.Sprintf(".%s.tmp-%d", IndexFile, rand.Uint32()))
	defer atomicfile.Track(tmp)()
	if _, err := writeSynced(tmp, func(w io.Writer) error { _, err := w.Write(append(raw, '\n')); return err }); err != nil {
		fsops.Remove(tmp)
		return fmt.Errorf("checkpoint run: write %s: %w", path, err)
	}
	if err := fsops.Rename(tmp, path); err != nil {
		fsops.Remove(tmp)
		return fmt.Errorf("checkpoint run: write %s: %w", path, err)
	}
	if err := fsops.SyncDir(d.Root); err != nil {
		return fmt.Errorf("checkpoint run: write %s: %w", path, err)
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
	tmp, err := fsops.MkdirTemp(parent, "."+base+".tmp-")
	if err != nil {
		return err
	}
	defer atomicfile.Track(tmp)()
	defer func() {
		if err != nil {
			fsops.RemoveAll(tmp)
		}
	}()
	if err := fsops.Chmod(tmp, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		from, to := filepath.Join(src, e.Name()), filepath.Join(tmp, e.Name())
		if fsops.Link(from, to) == nil {
			continue
		}
		if err := copyFile(from, to); err != nil {
			return err
		}
	}
	if err := fsops.SyncDir(tmp); err != nil {
		return err
	}
	return replaceDir(tmp, dst)
}

func copyFile(from, to string) error {
	in, _, err := safeio.Open(from, -1)
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
