package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/tapeml/tapeml/atomicfile"
)

// Ctrl-C and SIGTERM. A command that writes files stops at once and
// removes the temporary files and folders of the writes in progress
// (atomicfile.RemoveTemporaries), so that nothing hidden (".NAME.tmp-*")
// is left behind; what they would have replaced is untouched. A training
// stops gracefully at the first signal (before its next batch, keeping
// its complete epochs) and like the others at the second. Commands that
// write nothing keep Go's default (the process ends), and serve handles
// the signals itself.

// quit ends the process; tests replace it.
var quit = os.Exit

// exitOnInterrupt makes Ctrl-C and SIGTERM remove the temporary files of
// writes in progress and exit with status 130, until stop is called.
// Under a test's context (env.ctx) it does nothing.
func exitOnInterrupt(e env, name string) (stop func()) {
	if e.ctx != nil {
		return func() {}
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	done := watchInterrupt(e, name, signals)
	return func() {
		signal.Stop(signals)
		close(done)
	}
}

// watchInterrupt waits for a signal on signals and then abandons the
// writes in progress and quits; closing the returned channel ends the
// watch.
func watchInterrupt(e env, name string, signals <-chan os.Signal) chan<- struct{} {
	done := make(chan struct{})
	go func() {
		select {
		case s := <-signals:
			abandon(e, name, s)
		case <-done:
		}
	}()
	return done
}

// abandon removes the temporary files of the writes in progress, says so
// and quits with status 130.
func abandon(e env, name string, s os.Signal) {
	removed := atomicfile.RemoveTemporaries()
	msg := fmt.Sprintf("tapeml %s: %v: stopped", name, s)
	if len(removed) > 0 {
		msg += fmt.Sprintf("; removed %d unfinished temporary file(s); nothing was replaced", len(removed))
	}
	fmt.Fprintln(e.stderr, msg)
	quit(exitInterrupted)
}

// trainContext is the context a training runs under. The first Ctrl-C or
// SIGTERM cancels it, and the trainer stops before its next batch; a
// second one removes the temporary files of a checkpoint save in progress
// and quits at once. stop releases the signals.
func trainContext(e env) (ctx context.Context, stop func()) {
	if e.ctx != nil {
		return e.ctx, func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-signals:
			fmt.Fprintf(e.stderr, "tapeml train: %v: stopping before the next batch (again to quit at once)\n", s)
			cancel()
		case <-done:
			return
		}
		select {
		case s := <-signals:
			abandon(e, "train", s)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(signals)
		close(done)
		cancel()
	}
}
