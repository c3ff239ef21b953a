package checkpoint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Pick says which checkpoint of a run folder Resolve returns.
type Pick int

const (
	// PickBest selects best/, for evaluation, prediction and --init.
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
	if idxErr != nil && bestErr != nil {
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
