package train

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tapeml/tapeml/checkpoint"
)

// startRun takes the run folder's lock before anything is loaded, so that
// a second training into the same folder is refused at once; unless the
// training continues the run already there, it refuses a folder holding
// another run, or with force clears it. release gives the lock back and
// removes the folders it created if they stayed empty.
func startRun(out string, continuing, force bool) (release func(), err error) {
	// The folders Start creates, deepest first, to remove if left empty.
	var created []string
	for dir := filepath.Clean(out); ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) || dir == filepath.Dir(dir) {
			break
		}
		created = append(created, dir)
	}
	unlock, err := checkpoint.Dir{Root: out}.Start(continuing, force)
	switch {
	case errors.Is(err, checkpoint.ErrRunExists):
		return nil, Fieldf("%s %s already holds a run (%s): continue it with %s %s, train into a new %s, or replace it with %s",
			Field("out"), out, held(out), Field("resume"), out, Field("out"), Field("force"))
	case err != nil:
		return nil, err // names the lock holder
	}
	return func() {
		unlock()
		for _, dir := range created {
			os.Remove(dir) // a training that saved nothing leaves no folder
		}
	}, nil
}

// held lists a few entries of a run folder, for the refusal.
func held(dir string) string {
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		if e.Name() != checkpoint.LockFile {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	if len(names) > 3 {
		names = append(names[:3], "…")
	}
	return strings.Join(names, ", ")
}

// InterruptedError is a run stopped by its context: in an epoch, whose
// progress is abandoned (the run folder keeps the epochs before it), or
// while testing the complete training.
type InterruptedError struct {
	Epoch     int    // the epoch in progress, 1-based
	Out       string // the run folder
	Kind      string // the kind trained
	Resumable bool   // the run can continue from Out (RunSpec.Resume)
	Testing   bool   // the training was complete: only its test was cut
	Err       error  // the context's error
}

// Kept is the last complete epoch, which the run folder keeps.
func (e *InterruptedError) Kept() int { return e.Epoch - 1 }

func (e *InterruptedError) Error() string {
	switch {
	case e.Testing:
		return fmt.Sprintf("interrupted while testing; the training is complete in %s", e.Out)
	case e.Kept() == 0:
		return fmt.Sprintf("interrupted in epoch %d, before any checkpoint: nothing to resume", e.Epoch)
	case !e.Resumable:
		return fmt.Sprintf("interrupted in epoch %d; %s keeps epochs 1-%d, but %s runs do not resume", e.Epoch, e.Out, e.Kept(), e.Kind)
	}
	return fmt.Sprintf("interrupted in epoch %d; the run keeps its last complete epoch, %d, in %s, to resume from", e.Epoch, e.Kept(), e.Out)
}

func (e *InterruptedError) Unwrap() error { return e.Err }

// interrupted is the error of a Fit stopped after complete epochs.
func interrupted(complete int, out, kind string, resumable bool, err error) error {
	return &InterruptedError{Epoch: complete + 1, Out: out, Kind: kind, Resumable: resumable, Err: err}
}
