package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
)

// env is a command's world: its arguments and streams.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

type command struct {
	name, usage string
	run         func(e env, args []string) error
}

var commands = []command{
	{"train", "train a model: tapeml train MODEL [flags]", runTrain},
	{"eval", "evaluate a checkpoint on its test split or --data", runEval},
	{"predict", "predict texts from the arguments or stdin", runPredict},
	{"recommend", "recommend items to a user from a recommender checkpoint", runRecommend},
	{"similar", "list similar users or items from a recommender checkpoint", runSimilar},
	{"export", "export a checkpoint as safetensors (PyTorch) or ONNX", runExport},
	{"import", "turn a safetensors state_dict into a checkpoint", runImport},
	{"models", "list model kinds and their default configurations", runModels},
	{"bench", "measure training throughput against PyTorch on this machine", runBench},
	{"optimize", "quantize a checkpoint to int8 for serving: tapeml optimize --checkpoint DIR --int8 --out DIR", runOptimize},
}

func main() {
	os.Exit(run(os.Args[1:], env{os.Stdin, os.Stdout, os.Stderr}))
}

// run is the program, returning the exit status. It is the one place that
// recovers panics, which are programmer errors: bad input returns errors.
func run(args []string, e env) (status int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(e.stderr, "tapeml: internal error: %v\n%s", r, debug.Stack())
			status = 3
		}
	}()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(e, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		default:
			fmt.Fprintf(e.stderr, "tapeml %s: %s\n", c.name, oneLine(err.Error()))
			return 1
		}
	}
	fmt.Fprintf(e.stderr, "tapeml: unknown command %q (want one of: %s)\n", args[0], commandNames())
	return 2
}

// errUsage marks an error whose message the flag package already printed.
var errUsage = errors.New("usage")

func usage(w io.Writer) {
	fmt.Fprintln(w, "tapeml trains, evaluates and runs neural-network models defined as Gorgonia graphs.")
	fmt.Fprintln(w, "\nUsage: tapeml COMMAND [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.usage)
	}
	fmt.Fprintln(w, "\nRun 'tapeml COMMAND --help' for a command's flags.")
}

func commandNames() string {
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	return strings.Join(names, ", ")
}

// oneLine keeps error messages to a single line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(e env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags, turning the flag package's own errors into errUsage
// (it has already printed them) and --help into flag.ErrHelp.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}
