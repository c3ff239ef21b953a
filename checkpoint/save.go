package checkpoint

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tapeml/tapeml/atomicfile"
	"github.com/tapeml/tapeml/safetensors"
)

// safetensorsMetadata is what safetensors.torch.save_file writes; Hugging
// Face loaders check for it.
var safetensorsMetadata = map[string]string{"format": "pt"}

// afterWrite, when set by a test, runs after each file is written into the
// temporary directory; an error it returns fails the save there.
var afterWrite func(name string) error

// Save writes c to dir atomically and fills in c.Meta.FormatVersion and
// c.Meta.Files. Everything is written into a temporary directory next to
// dir and synced; then an existing dir is moved aside, the new one renamed
// into place and the old one removed. On any error the previous dir is left
// as it was and the temporary directory is removed. A dir that exists but
// is neither empty nor a checkpoint is not replaced.
func Save(dir string, c *Checkpoint) (err error) {
	if err := c.validate(); err != nil {
		return fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	if err := checkReplaceable(dir); err != nil {
		return err
	}
	parent, base := filepath.Split(filepath.Clean(dir))
	if parent == "" {
		parent = "."
	}
	if err := fsops.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	tmp, err := fsops.MkdirTemp(parent, "."+base+".tmp-")
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	defer atomicfile.Track(tmp)()
	defer func() {
		if err != nil {
			fsops.RemoveAll(tmp)
		}
	}()
	if err := fsops.Chmod(tmp, 0o755); err != nil { // MkdirTemp makes 0700
		return fmt.Errorf("checkpoint %s: %w", dir, err)
	}

	meta := c.Meta
	meta.FormatVersion = FormatVersion
	meta.Files = map[string]FileSum{}
	write := func(name string, body func(io.Writer) error) error {
		sum, err := writeSynced(filepath.Join(tmp, name), body)
		if err == nil && afterWrite != nil {
			err = afterWrite(name)
		}
		if err != nil {
			return fmt.Errorf("checkpoint %s: writing %s: %w", dir, name, err)
		}
		if name != MetaFile {
			meta.Files[name] = sum
		}
		return nil
	}
	if err := write(WeightsFile, func(w io.Writer) error {
		return safetensors.Write(w, c.Weights, safetensorsMetadata)
	}); err != nil {
		return err
	}
	if !meta.WeightsOnly {
		if err := write(OptimizerFile, func(w io.Writer) error {
			return safetensors.Write(w, c.Optimizer, safetensorsMetadata)
		}); err != nil {
			return err
		}
	}
	for name, data := range c.Extra {
		if err := write(name, func(w io.Writer) error {
			_, err := w.Write(data)
			return err
		}); err != nil {
			return err
		}
	}
	// Indented for people reading it; unescaped so a vocabulary's "<OOV>"
	// stays readable. The raw fields are re-indented, not changed.
	var metaJSON bytes.Buffer
	enc := json.NewEncoder(&metaJSON)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&meta); err != nil {
		return fmt.Errorf("checkpoint %s: encoding %s: %w", dir, MetaFile, err)
	}
	if err := write(MetaFile, func(w io.Writer) error {
		_, err := w.Write(metaJSON.Bytes())
		return err
	}); err != nil {
		return err
	}
	if err := fsops.SyncDir(tmp); err != nil {
		return fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	if err := replaceDir(tmp, dir); err != nil {
		return fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	c.Meta.FormatVersion, c.Meta.Files = meta.FormatVersion, meta.Files
	return nil
}

// checkReplaceable refuses to replace anything but a missing path, an empty
// directory or a checkpoint, so a mistyped path cannot delete user data;
// a symbolic link, device or FIFO is never replaced.
func checkReplaceable(dir string) error {
	if err := atomicfile.CheckFolder(dir, "a checkpoint", true, IsCheckpoint); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// IsCheckpoint reports whether dir is a checkpoint folder: a directory
// holding a regular meta.json.
func IsCheckpoint(dir string) bool { return complete(dir) }

// No writer puts files into a checkpoint folder but Save, which builds a
// new one beside it: its files are the ones meta.json lists (and a run's
// best/ shares them with its epoch folder by hard links).
func init() { atomicfile.Protect("a checkpoint", IsCheckpoint) }

// CheckOutput reports whether a checkpoint may be written at dir by a
// writer that makes it from inputs (the checkpoints and files it reads):
// a missing path or an empty folder; with replace, an existing checkpoint;
// never one of inputs or a path inside or around one, a file, a symbolic
// link, a device or a folder that is not a checkpoint. Save itself
// replaces checkpoints (a resumed run re-saves its epochs); commands that
// make a new checkpoint (import, int8 quantization) call CheckOutput first.
func CheckOutput(dir string, replace bool, inputs ...string) error {
	if err := atomicfile.CheckFolder(dir, "a checkpoint", replace, IsCheckpoint, inputs...); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// writeSynced creates path, streams body into it while hashing, and syncs
// it to disk before closing.
func writeSynced(path string, body func(io.Writer) error) (sum FileSum, err error) {
	f, err := fsops.Create(path)
	if err != nil {
		return sum, err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	h := sha256.New()
	counter := &countingWriter{w: h}
	buf := bufio.NewWriterSize(io.MultiWriter(f, counter), 1<<20)
	if err := body(buf); err != nil {
		return sum, err
	}
	if err := buf.Flush(); err != nil {
		return sum, err
	}
	if err := f.Sync(); err != nil {
		return sum, err
	}
	return FileSum{SHA256: hex.EncodeToString(h.Sum(nil)), Size: counter.n}, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// replaceDir renames the complete directory tmp to dir. An existing dir is
// first renamed aside (".NAME.old-*"), then removed once tmp is in place;
// if a crash strikes between the two renames, Load's error points to the
// old copy.
func replaceDir(tmp, dir string) error {
	parent, base := filepath.Split(filepath.Clean(dir))
	if parent == "" {
		parent = "."
	}
	old := ""
	if _, err := os.Lstat(dir); err == nil {
		// MkdirTemp reserves a unique name; rename needs it absent.
		reserved, err := fsops.MkdirTemp(parent, "."+base+".old-")
		if err != nil {
			return err
		}
		if err := fsops.Remove(reserved); err != nil {
			return err
		}
		if err := fsops.Rename(dir, reserved); err != nil {
			return err
		}
		old = reserved
	}
	if err := fsops.Rename(tmp, dir); err != nil {
		if old != "" {
			if rerr := fsops.Rename(old, dir); rerr != nil {
				return fmt.Errorf("%w (and restoring the previous checkpoint from %s failed: %v)", err, old, rerr)
			}
		}
		return err
	}
	if err := fsops.SyncDir(parent); err != nil {
		return err
	}
	if old != "" {
		return fsops.RemoveAll(old)
	}
	return nil
}

// leftovers returns the temporary and set-aside directories that Save (and
// a crash in it) can leave next to dir.
func leftovers(dir string) []string {
	parent, base := filepath.Split(filepath.Clean(dir))
	if parent == "" {
		parent = "."
	}
	entries, _ := os.ReadDir(parent)
	var found []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, "."+base+".tmp-") || strings.HasPrefix(n, "."+base+".old-") {
			found = append(found, filepath.Join(parent, n))
		}
	}
	return found
}
