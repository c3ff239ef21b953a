package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/train"
)

// trainContext is the context a training runs under. The first Ctrl-C or
// SIGTERM cancels it, and the trainer stops before its next batch; a
// second one kills the process as usual. stop releases the signals.
func trainContext(e env) (ctx context.Context, stop func()) {
	if e.ctx != nil {
		return e.ctx, func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-signals:
			signal.Stop(signals) // the next signal kills
			fmt.Fprintf(e.stderr, "tapeml train: %v: stopping before the next batch (again to quit at once)\n", s)
			cancel()
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(signals)
		close(done)
		cancel()
	}
}

// startRun takes the run folder's lock for a training, before it loads
// anything, so a second training into the same folder is refused at once;
// unless the
// training continues the run already there, refuses a folder holding
// another run, or with force clears it. release gives the lock back.
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
		return nil, fmt.Errorf("--out %s already holds a run (%s): continue it with --resume %s, train into a new --out, or replace it with --force",
			out, held(out), out)
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

// fit runs t.Fit under ctx. An interruption becomes an error saying what
// the run folder keeps (the last complete epoch: the epoch in progress is
// abandoned) and how to continue; the CLI exits 130 with it.
func fit(ctx context.Context, t *train.Trainer, trainSet, valSet dataset.Dataset, out string, resumable bool) error {
	err := t.Fit(ctx, trainSet, valSet)
	if err == nil || !errors.Is(err, context.Canceled) {
		return err
	}
	kind := ""
	if t.Saver != nil {
		kind = t.Saver.Info.Kind
	}
	switch {
	case t.Epoch == 0:
		return &interruptedError{fmt.Sprintf("interrupted in epoch 1, before any checkpoint: nothing to resume; run the command again to start over")}
	case !resumable:
		return &interruptedError{fmt.Sprintf("interrupted in epoch %d; %s keeps epochs 1-%d, but %s runs do not resume: run the command again with --force to start over", t.Epoch+1, out, t.Epoch, kind)}
	}
	abs, aerr := filepath.Abs(out)
	if aerr != nil {
		abs = out
	}
	return &interruptedError{fmt.Sprintf("interrupted in epoch %d; the run keeps its last complete epoch, %d, in %s; continue with: tapeml train %s --resume %s",
		t.Epoch+1, t.Epoch, out, kind, shellQuote(abs))}
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:+,=@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
