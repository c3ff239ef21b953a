package checkpoint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tapeml/tapeml/internal/safeio"
)

// Pick says which checkpoint of a run folder Resolve returns.
type Pick int

const (
	// PickBest selects the best epoch (see Dir.Best), for evaluation,
	// prediction and fine-tuning.
	PickBest Pick = iota
	// PickLatest selects the most recently saved epoch, for --resume.
	PickLatest
)

// Resolve returns the checkpoint directory a user means by path: path
// itself if it is a checkpoint directory (has meta.json), otherwise the
// best or latest checkpoint of the run folder path.
func Resolve(path string, pick Pick) (string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	if !info.IsDir() {
		return "", fmt.Errorf("checkpoint %s: not a directory (pass a run folder or a checkpoint directory)", path)
	}
	if _, err := os.Stat(filepath.Join(path, MetaFile)); err == nil {
		return path, nil
	}
	_, idxErr := os.Stat(filepath.Join(path, IndexFile))
	_, bestErr := os.Stat(filepath.Join(path, BestDir))
	// A kill during a run's first save can leave complete epoch
	// directories without index.json.
	if idxErr != nil && bestErr != nil && len((Dir{Root: path}).epochDirs()) == 0 {
		msg := fmt.Sprintf("checkpoint %s: neither a checkpoint directory (no %s) nor a run folder (no %s)", path, MetaFile, IndexFile)
		if left := leftovers(path); len(left) > 0 {
			msg += fmt.Sprintf("; an interrupted save left %v", left)
		}
		return "", errors.New(msg)
	}
	d := Dir{Root: path}
	switch pick {
	case PickBest:
		best, err := d.Best()
		if err != nil {
			if latest, lerr := d.Latest(); lerr == nil {
				return "", fmt.Errorf("%w; the run has no validation-best checkpoint, pass the latest explicitly: %s", err, latest)
			}
		}
		return best, err
	case PickLatest:
		return d.Latest()
	}
	panic(fmt.Sprintf("checkpoint.Resolve: invalid Pick %d", pick))
}

// Open reads the checkpoint a user means by path, whichever form it has: a
// checkpoint directory, a run folder (its best or latest checkpoint, as
// pick says), or a .safetensors file with tapeml metadata (ReadSafetensors);
// int8 or float32 alike. It is the one way in: the runtime, evaluation,
// resuming and fine-tuning all open checkpoints here.
//
// A folder is resolved as Resolve does and loaded. A run folder
// can be read while a training writes to it: Resolve follows index.json to
// an epoch directory that is complete and not rewritten, and when a
// rotation deletes it (or a resumed run re-saves it) between resolving and
// loading, Open resolves again, up to three times.
func Open(path string, pick Pick) (*Checkpoint, error) {
	if path == "" {
		return nil, errors.New("checkpoint: empty path")
	}
	if info, err := os.Stat(path); err == nil && !info.IsDir() {
		if !strings.EqualFold(filepath.Ext(path), ".safetensors") {
			return nil, fmt.Errorf("%s: not a checkpoint folder, run folder or .safetensors file", path)
		}
		return ReadSafetensors(path, nil)
	}
	var err error
	for attempt := range 3 {
		before, hasIndex := indexStamp(path)
		var dir string
		if dir, err = Resolve(path, pick); err != nil {
			return nil, err
		}
		var c *Checkpoint
		if c, err = Load(dir); err == nil {
			return c, nil
		}
		if !hasIndex || dir == path {
			return nil, err // a checkpoint directory: nothing moves under it
		}
		if after, _ := indexStamp(path); after == before && attempt > 0 {
			return nil, err // retried once with the index unchanged: a real error
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil, err
}

// indexStamp returns a run folder's index.json contents.
func indexStamp(root string) (string, bool) {
	raw, err := safeio.ReadFile(filepath.Join(root, IndexFile), MaxMetaBytes)
	return string(raw), err == nil
}
