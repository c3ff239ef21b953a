package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tapeml/tapeml/internal/buildinfo"
	_ "github.com/tapeml/tapeml/models/all"
	_ "github.com/tapeml/tapeml/samples" // the built-in data sets, by name
	"github.com/tapeml/tapeml/train"
)

// Exit statuses.
const (
	exitOK          = 0
	exitFailed      = 1   // the operation failed
	exitUsage       = 2   // the command line is wrong
	exitInternal    = 3   // a panic: a bug
	exitInterrupted = 130 // Ctrl-C or SIGTERM, as shells report SIGINT
)

// env is a command's world: its streams.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// ctx, if set, replaces the Ctrl-C/SIGTERM context a training runs
	// under (tests interrupt through it).
	ctx context.Context
}

func main() {
	os.Exit(run(os.Args[1:], env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}))
}

// usageError is a mistake on the command line (exit status 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef returns a usage error.
func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// run is the program, returning the exit status. It is the one place that
// recovers panics, which are programmer errors: bad input returns errors.
func run(args []string, e env) (status int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(e.stderr, "tapeml: internal error: %v\n%s", r, debug.Stack())
			status = exitInternal
		}
	}()
	root := newRoot(e)
	if len(args) == 0 {
		root.SetOut(e.stderr)
		root.Usage()
		return exitUsage
	}
	if err := precheck(root, args); err != nil {
		fmt.Fprintln(e.stderr, err)
		return exitUsage
	}
	if cmd, _, err := root.Find(args); err == nil {
		args = goStyle(cmd, args)
	}
	root.SetArgs(args)
	ran, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	where := "tapeml"
	if ran != nil && ran != root {
		where = ran.CommandPath()
	}
	fmt.Fprintf(e.stderr, "%s: %s\n", where, oneLine(message(err)))
	var usage *usageError
	var stopped *train.InterruptedError
	var invalid *train.FieldError
	switch {
	case errors.As(err, &stopped):
		return exitInterrupted
	case errors.As(err, &usage):
		return exitUsage
	case errors.As(err, &invalid) && invalid.Invalid && ran != nil && changed(ran.Flags(), flagName(string(invalid.Field))):
		return exitUsage // a flag's value out of range, as the library says
	}
	return exitFailed
}

// precheck refuses the command lines cobra would misread: an unknown
// command (with the likely one), and a train whose model does not come
// first.
func precheck(root *cobra.Command, args []string) error {
	name := args[0]
	if strings.HasPrefix(name, "-") {
		return nil
	}
	if !isCommand(root, name) {
		msg := fmt.Sprintf("tapeml: unknown command %q", name)
		if s := root.SuggestionsFor(name); len(s) > 0 {
			msg += fmt.Sprintf(" (did you mean %q?)", s[0])
		}
		return fmt.Errorf("%s; commands: %s", msg, strings.Join(commandNames(root), ", "))
	}
	if name == "train" && len(args) > 1 && strings.HasPrefix(args[1], "-") && args[1] != "-h" && args[1] != "--help" {
		for _, a := range args[2:] {
			if kindCommand(root, a) {
				return fmt.Errorf("tapeml train: the model goes first: tapeml train %s [flags]", a)
			}
		}
		return fmt.Errorf("tapeml train: missing model: tapeml train MODEL [flags] (models: %s)", strings.Join(kindNames(), ", "))
	}
	return nil
}

func isCommand(root *cobra.Command, name string) bool {
	if name == "help" || name == cobra.ShellCompRequestCmd || name == cobra.ShellCompNoDescRequestCmd {
		return true
	}
	for _, c := range root.Commands() {
		if c.Name() == name || c.HasAlias(name) {
			return true
		}
	}
	return false
}

func commandNames(root *cobra.Command) []string {
	var names []string
	for _, c := range root.Commands() {
		if c.IsAvailableCommand() && c.Name() != "help" && c.Name() != "completion" {
			names = append(names, c.Name())
		}
	}
	return names
}

// message is an error's text with the library's setting names said as
// the flags that set them.
func message(err error) string {
	var stopped *train.InterruptedError
	if errors.As(err, &stopped) {
		return interruptedMessage(stopped)
	}
	return train.NamedText(err, dashed)
}

// interruptedMessage says what an interrupted training keeps and how to
// go on.
func interruptedMessage(e *train.InterruptedError) string {
	switch {
	case e.Testing:
		return fmt.Sprintf("interrupted while testing; the training is complete: tapeml eval --checkpoint %s", shellQuote(e.Out))
	case e.Kept() == 0:
		return "interrupted in epoch 1, before any checkpoint: nothing to resume; run the command again to start over"
	case !e.Resumable:
		return fmt.Sprintf("interrupted in epoch %d; %s keeps epochs 1-%d, but %s runs do not resume: run the command again with --force to start over",
			e.Epoch, e.Out, e.Kept(), e.Kind)
	}
	abs, err := filepath.Abs(e.Out)
	if err != nil {
		abs = e.Out
	}
	return fmt.Sprintf("interrupted in epoch %d; the run keeps its last complete epoch, %d, in %s; continue with: tapeml train %s --resume %s",
		e.Epoch, e.Kept(), e.Out, e.Kind, shellQuote(abs))
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:+,=@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// oneLine keeps error messages to a single line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// version is the module version and VCS commit the binary was built from.
func version() string { return buildinfo.Version() }

// versionOf words a binary's build information as version does.
func versionOf(info *debug.BuildInfo) string { return buildinfo.Of(info) }
