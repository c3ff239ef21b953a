package checkpoint

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/tapeml/tapeml/internal/safeio"
	"github.com/tapeml/tapeml/safetensors"
)

// Load reads the checkpoint in dir. It checks the format version and that
// every file meta.json lists exists with the recorded size and sha256 before
// decoding anything; errors name the offending file.
func Load(dir string) (*Checkpoint, error) {
	metaPath := filepath.Join(dir, MetaFile)
	raw, err := safeio.ReadFile(metaPath, MaxMetaBytes)
	if errors.Is(err, fs.ErrNotExist) {
		msg := fmt.Sprintf("checkpoint %s: no %s (not a checkpoint directory)", dir, MetaFile)
		if left := leftovers(dir); len(left) > 0 {
			msg += fmt.Sprintf("; an interrupted save left %s", strings.Join(left, ", "))
		}
		return nil, errors.New(msg)
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	// Peek at the version first, so a future format gets a version error
	// rather than a confusing decoding one.
	var version struct {
		FormatVersion *int `json:"format_version"`
	}
	if err := json.Unmarshal(raw, &version); err != nil {
		return nil, fmt.Errorf("checkpoint %s: invalid JSON (file corrupted or truncated): %w", metaPath, err)
	}
	switch v := version.FormatVersion; {
	case v == nil:
		return nil, fmt.Errorf("checkpoint %s: no format_version (not a tapeml checkpoint)", metaPath)
	case *v > FormatVersion:
		return nil, fmt.Errorf("checkpoint %s: format version %d is newer than this tapeml supports (%d); upgrade tapeml", dir, *v, FormatVersion)
	case *v < 1:
		return nil, fmt.Errorf("checkpoint %s: invalid format_version %d", metaPath, *v)
	}
	c := &Checkpoint{Dir: dir}
	if err := json.Unmarshal(raw, &c.Meta); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", metaPath, err)
	}
	m := &c.Meta
	if _, ok := m.Files[WeightsFile]; !ok {
		return nil, fmt.Errorf("checkpoint %s: files does not list %s", metaPath, WeightsFile)
	}
	_, hasOptimizer := m.Files[OptimizerFile]
	switch {
	case m.WeightsOnly && hasOptimizer:
		return nil, fmt.Errorf("checkpoint %s: weights_only is true but files lists %s", metaPath, OptimizerFile)
	case !m.WeightsOnly && !hasOptimizer:
		return nil, fmt.Errorf("checkpoint %s: files does not list %s (and weights_only is false)", metaPath, OptimizerFile)
	}

	contents := make(map[string][]byte, len(m.Files))
	for name, sum := range m.Files {
		if err := checkFileName(name); err != nil {
			return nil, fmt.Errorf("checkpoint %s: files: %w", metaPath, err)
		}
		path := filepath.Join(dir, name)
		data, err := readListed(path, sum.Size)
		if err != nil {
			return nil, err
		}
		digest := sha256.Sum256(data)
		if hex.EncodeToString(digest[:]) != strings.ToLower(sum.SHA256) {
			return nil, fmt.Errorf("checkpoint %s: sha256 mismatch (file corrupted or truncated)", path)
		}
		contents[name] = data
	}

	for name, data := range contents {
		switch name {
		case WeightsFile, OptimizerFile:
			f, err := safetensors.Parse(data)
			if err == nil {
				err = safetensors.CheckFinite(f.Tensors)
			}
			if err != nil {
				return nil, fmt.Errorf("checkpoint %s: %w", filepath.Join(dir, name), err)
			}
			if name == WeightsFile {
				c.Weights = f.Tensors
			} else {
				c.Optimizer = f.Tensors
			}
		default:
			if c.Extra == nil {
				c.Extra = map[string][]byte{}
			}
			c.Extra[name] = data
		}
	}
	return c, nil
}

// CanResume reports whether training can continue from c: it needs the
// optimizer's state, which a weights-only checkpoint does not have.
// MaxMetaBytes bounds the size of meta.json Load reads (64 MiB, room for
// a vocabulary of millions of words), so a huge or endless meta.json is
// refused before it is read.
var MaxMetaBytes int64 = 64 << 20

// readListed reads a file meta.json lists, which must be a regular file of
// exactly the size meta.json records: a FIFO, a device or a link to one is
// refused, and no more than size bytes are read.
func readListed(path string, size int64) ([]byte, error) {
	f, actual, err := safeio.Open(path, -1)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("checkpoint %s: missing (listed in %s)", path, MetaFile)
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint %w", err)
	}
	defer f.Close()
	if actual != size {
		return nil, fmt.Errorf("checkpoint %s: %d bytes, %s says %d (file truncated or corrupted)", path, actual, MetaFile, size)
	}
	data, err := safeio.ReadAll(f, size, size)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w (file changed while being read)", path, err)
	}
	if int64(len(data)) != size {
		return nil, fmt.Errorf("checkpoint %s: %d bytes, %s says %d (file truncated or corrupted)", path, len(data), MetaFile, size)
	}
	return data, nil
}

func (c *Checkpoint) CanResume() error {
	where := c.Dir
	if where == "" {
		where = "(unsaved)"
	}
	if c.Meta.WeightsOnly {
		return fmt.Errorf("checkpoint %s is weights-only (no optimizer state): it can be evaluated, run and fine-tuned from, but not resumed", where)
	}
	if len(c.Meta.Optimizer) == 0 {
		return fmt.Errorf("checkpoint %s records no optimizer settings: it can be evaluated, run and fine-tuned from, but not resumed", where)
	}
	return nil
}

// CheckProgress checks the epoch and step c's meta.json records, which a
// resumed run continues from (saving epochs Epoch+1, Epoch+2, …): the
// epoch at least 1, the step at least the epoch (every epoch takes a
// step), the best epoch not after it, and where c was read from in a run
// folder agreeing — an epoch folder's name its epoch (epoch-0003 holds
// epoch 3), the run's best/ the index's best epoch. A wrong epoch would
// retrain over existing checkpoints.
func (c *Checkpoint) CheckProgress() error {
	m, where := c.Meta, c.MetaName()
	switch {
	case m.Epoch < 1:
		return fmt.Errorf("%s: epoch %d: a resumable checkpoint has completed at least epoch 1", where, m.Epoch)
	case m.Step < int64(m.Epoch):
		return fmt.Errorf("%s: step %d is below epoch %d: every epoch takes at least one step", where, m.Step, m.Epoch)
	}
	name := filepath.Base(filepath.Clean(c.Dir))
	if e, ok := parseEpochDir(name); ok && c.Dir != "" && e != m.Epoch {
		return fmt.Errorf("%s: epoch %d, but its folder %s holds epoch %d", where, m.Epoch, name, e)
	}
	if m.Best != nil && (m.Best.Epoch < 1 || m.Best.Epoch > m.Epoch) {
		return fmt.Errorf("%s: best epoch %d is not one of the %d epochs completed", where, m.Best.Epoch, m.Epoch)
	}
	if c.Dir != "" && name == BestDir {
		idx, err := (Dir{Root: filepath.Dir(filepath.Clean(c.Dir))}).readIndex()
		if err == nil && idx.found && idx.BestEpoch >= 0 && idx.BestEpoch != m.Epoch {
			return fmt.Errorf("%s: epoch %d, but the run's %s says its best epoch is %d", where, m.Epoch, IndexFile, idx.BestEpoch)
		}
	}
	return nil
}

// LatestEpoch is the epoch of the run's latest checkpoint (the one Latest
// returns), or 0 when the run has none.
func (d Dir) LatestEpoch() int {
	path, err := d.Latest()
	if err != nil {
		return 0
	}
	e, _ := parseEpochDir(filepath.Base(path))
	return e
}
