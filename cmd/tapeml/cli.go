package main

// The command line on cobra and pflag. Each entry of the commands table
// becomes a cobra command that hands its raw arguments to its run function
// (DisableFlagParsing); the run function declares its flags on a Go
// flag.FlagSet with newFlags, as it always did, and parse reads them with
// pflag: flags anywhere on the line, --name value, --name=value, and the
// Go-style -name kept for old scripts. A new command is one table entry.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tapeml/tapeml/kinds"
)

// Exit statuses.
const (
	exitOK          = 0
	exitFailed      = 1   // the operation failed
	exitUsage       = 2   // the command line is wrong
	exitInternal    = 3   // a panic: a bug
	exitInterrupted = 130 // Ctrl-C or SIGTERM, as shells report SIGINT
)

// errUsage is wrapped by errors about the command line (exit status 2).
var errUsage = errors.New("usage")

// usageError is a command-line mistake with its hint.
type usageError struct{ msg string }

func (e *usageError) Error() string        { return e.msg }
func (e *usageError) Is(target error) bool { return target == errUsage }

// usagef returns a usage error (exit status 2).
func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// interruptedError is a training stopped by a signal (exit status 130).
type interruptedError struct{ msg string }

func (e *interruptedError) Error() string { return e.msg }

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
	if name := args[0]; !strings.HasPrefix(name, "-") && !isCommand(root, name) {
		msg := fmt.Sprintf("tapeml: unknown command %q", name)
		if s := root.SuggestionsFor(name); len(s) > 0 {
			msg += fmt.Sprintf(" (did you mean %q?)", s[0])
		}
		fmt.Fprintf(e.stderr, "%s; commands: %s\n", msg, commandNames())
		return exitUsage
	}
	root.SetArgs(args)
	ran, err := root.ExecuteC()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp), errors.Is(err, pflag.ErrHelp):
		return exitOK
	case ran == nil || ran == root || !isTableCommand(ran.Name()):
		// cobra's own parsing: the root's flags, help, completion.
		fmt.Fprintf(e.stderr, "tapeml: %s; see 'tapeml --help'\n", oneLine(err.Error()))
		return exitUsage
	}
	fmt.Fprintf(e.stderr, "tapeml %s: %s\n", ran.Name(), flagTerms(oneLine(err.Error())))
	var stopped *interruptedError
	switch {
	case errors.As(err, &stopped):
		return exitInterrupted
	case errors.Is(err, errUsage), usageLike.MatchString(err.Error()):
		return exitUsage
	}
	return exitFailed
}

// usageLike matches the command-line errors that commands return as plain
// errors ("unexpected argument …", "--out is required", "--top must be …",
// "--algo "x": want …"), so they exit 2 like usagef's.
var usageLike = regexp.MustCompile(`^(unexpected argument |--[a-z0-9-]+ (is required|is empty|must |"[^"]*": want |[0-9.e+-]+: want ))`)

// newRoot builds the cobra tree from the commands table, at run time so
// that table entries added by init functions are included.
func newRoot(e env) *cobra.Command {
	root := &cobra.Command{
		Use:   "tapeml",
		Short: "train, evaluate and run neural-network models defined as Gorgonia graphs",
		Long: "tapeml trains, evaluates and runs neural-network models defined as Gorgonia graphs.\n\n" +
			"Flags go anywhere after the command, as --name value or --name=value (-name value works too).\n" +
			"Exit status: 0 success, 1 failed operation, 2 usage error, 130 interrupted.",
		Version:       version(),
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SuggestionsMinimumDistance = 2
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetVersionTemplate("tapeml {{.Version}}\n")
	for _, c := range commands {
		root.AddCommand(&cobra.Command{
			Use:                c.name,
			Short:              c.usage,
			DisableFlagParsing: true, // parse does it, with the command's own flags
			SilenceErrors:      true,
			SilenceUsage:       true,
			RunE:               func(_ *cobra.Command, args []string) error { return c.run(e, args) },
			ValidArgsFunction:  completeArgs(c),
		})
	}
	root.InitDefaultCompletionCmd() // now, so that run knows it as a command
	// help CMD runs CMD --help, which knows the command's flags.
	root.SetHelpCommand(&cobra.Command{
		Use:   "help [command]",
		Short: "help about any command",
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return root.Help()
			}
			for _, c := range commands {
				if c.name == args[0] {
					return c.run(e, append(slices.Clone(args[1:]), "--help"))
				}
			}
			if cmd, _, err := root.Find(args); err == nil && cmd != root {
				return cmd.Help()
			}
			return usagef("unknown command %q; commands: %s", args[0], commandNames())
		},
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return commandList(), cobra.ShellCompDirectiveNoFileComp
		},
	})
	return root
}

func isCommand(root *cobra.Command, name string) bool {
	if name == "help" || name == cobra.ShellCompRequestCmd || name == cobra.ShellCompNoDescRequestCmd {
		return true
	}
	for _, c := range root.Commands() {
		if c.Name() == name || slices.Contains(c.Aliases, name) {
			return true
		}
	}
	return false
}

func isTableCommand(name string) bool {
	return slices.ContainsFunc(commands, func(c command) bool { return c.name == name })
}

func commandList() []string {
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	return names
}

func commandNames() string { return strings.Join(commandList(), ", ") }

// version is the module version and VCS commit the binary was built from.
// A `go install …@version` build knows its module version; a build in a
// git checkout knows its commit (not in a git worktree, which cmd/go does
// not recognise).
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown version)"
	}
	return versionOf(info)
}

func versionOf(info *debug.BuildInfo) string {
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	commit := settings["vcs.revision"]
	switch {
	case commit == "":
		commit = "unknown"
	case settings["vcs.modified"] == "true":
		commit += "+modified"
	}
	out := fmt.Sprintf("%s commit %s", v, commit)
	if t := settings["vcs.time"]; t != "" {
		out += " (" + t + ")"
	}
	return out + " " + info.GoVersion
}

// flagInfo is what newFlags records about a flag set for parse and for
// completion.
type flagInfo struct {
	e        env
	synopsis string
	capture  *flagCapture // set when the set is only being inspected
}

var flagSets sync.Map // *flag.FlagSet → *flagInfo

// flagCapture receives the flag set of a command run only to list its
// flags (shell completion); parse then returns errCaptured.
type flagCapture struct {
	io.Writer
	fs *flag.FlagSet
}

var errCaptured = errors.New("flags captured")

// newFlags returns the flag set a command declares its flags on. parse
// reads them; --help prints the synopsis and flags on stdout.
func newFlags(e env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	info := &flagInfo{e: e, synopsis: synopsis}
	if c, ok := e.stdout.(*flagCapture); ok {
		info.capture = c
		c.fs = fs
	}
	flagSets.Store(fs, info)
	fs.Usage = func() {
		fmt.Fprintf(e.stdout, "Usage: %s\n\nFlags:\n%s", synopsis, mirror(fs).FlagUsages())
	}
	return fs
}

// parse reads the command line into fs with pflag, flags and arguments
// interleaved; fs.Args, fs.NArg and fs.Visit then work as after a Go
// flag.Parse. It returns flag.ErrHelp after printing the help, and a
// one-line usage error (exit status 2) naming the flag and the likely
// intended one.
func parse(fs *flag.FlagSet, args []string) error {
	var info *flagInfo
	if v, ok := flagSets.Load(fs); ok {
		info = v.(*flagInfo)
		if info.capture != nil {
			return errCaptured
		}
	}
	pf := mirror(fs)
	if err := pf.Parse(goStyle(fs, args)); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fs.Usage()
			return flag.ErrHelp
		}
		return flagError(fs, info, err)
	}
	// Hand the positional arguments to fs; the values are already set.
	if err := fs.Parse(append([]string{"--"}, pf.Args()...)); err != nil {
		return usagef("%v", err)
	}
	return nil
}

// mirror returns a pflag set whose flags set fs's, so fs records which
// flags were given (fs.Visit) and each value is parsed once, by fs.
func mirror(fs *flag.FlagSet) *pflag.FlagSet {
	pf := pflag.NewFlagSet(fs.Name(), pflag.ContinueOnError)
	pf.SetOutput(io.Discard)
	pf.Usage = func() {}
	pf.SetInterspersed(true)
	pf.SortFlags = false
	fs.VisitAll(func(f *flag.Flag) {
		short := ""
		if len(f.Name) == 1 {
			short = f.Name // -n works as a pflag shorthand too
		}
		p := pf.VarPF(goValue{fs, f}, f.Name, short, f.Usage)
		p.DefValue = f.DefValue
		if isBool(f) {
			p.NoOptDefVal = "true"
		}
	})
	return pf
}

// goValue is a Go flag seen by pflag.
type goValue struct {
	fs *flag.FlagSet
	f  *flag.Flag
}

func (v goValue) String() string     { return v.f.Value.String() }
func (v goValue) Set(s string) error { return v.fs.Set(v.f.Name, s) }
func (v goValue) Type() string {
	if isBool(v.f) {
		return "bool"
	}
	t := fmt.Sprintf("%T", v.f.Value)
	for _, k := range []struct{ goType, name string }{
		{"*flag.stringValue", "string"}, {"*flag.intValue", "int"}, {"*flag.int64Value", "int"},
		{"*flag.uintValue", "uint"}, {"*flag.uint64Value", "uint"}, {"*flag.float64Value", "float"},
		{"*flag.durationValue", "duration"},
	} {
		if t == k.goType {
			return k.name
		}
	}
	return "value"
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

var number = regexp.MustCompile(`^-[0-9.]`)

// goStyle rewrites Go-style long flags (-epochs 3, -json) to --epochs 3 and
// --json, leaving values, numbers and everything after "--" alone.
func goStyle(fs *flag.FlagSet, args []string) []string {
	out := slices.Clone(args)
	for i := 0; i < len(out); i++ {
		a := out[i]
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" || number.MatchString(a) {
			continue
		}
		name, hasValue := strings.TrimLeft(a, "-"), strings.Contains(a, "=")
		name, _, _ = strings.Cut(name, "=")
		f := fs.Lookup(name)
		if f == nil {
			continue
		}
		if !strings.HasPrefix(a, "--") && len(name) > 1 {
			out[i] = "-" + a
		}
		if !hasValue && !isBool(f) {
			i++ // the next argument is this flag's value
		}
	}
	return out
}

// flagError turns pflag's error into one line naming the flag, with the
// flag probably meant and where the help is.
func flagError(fs *flag.FlagSet, info *flagInfo, err error) error {
	msg := err.Error()
	var missing *pflag.NotExistError
	var needs *pflag.ValueRequiredError
	var invalid *pflag.InvalidValueError
	switch {
	case errors.As(err, &missing):
		name := missing.GetSpecifiedName()
		if s := missing.GetSpecifiedShortnames(); s != "" {
			name = s // -epoch: pflag read shorthands e, p, …
		}
		msg = "unknown flag " + dashed(name)
		if s := suggestFlag(fs, name); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", dashed(s))
		}
	case errors.As(err, &needs):
		msg = fmt.Sprintf("flag %s needs a value", dashed(needs.GetFlag().Name))
	case errors.As(err, &invalid):
		msg = fmt.Sprintf("invalid value %q for %s: %v", invalid.GetValue(), dashed(invalid.GetFlag().Name), invalid.Unwrap())
	}
	return usagef("%s; see '%s --help'", msg, commandOf(fs, info))
}

func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// suggestFlag is the flag of fs closest to name, if it is close.
func suggestFlag(fs *flag.FlagSet, name string) string {
	best, bestD := "", 3
	fs.VisitAll(func(f *flag.Flag) {
		d := editDistance(strings.ToLower(name), f.Name)
		if strings.HasPrefix(f.Name, name) && len(name) >= 3 {
			d = min(d, 1)
		}
		if d < bestD {
			best, bestD = f.Name, d
		}
	})
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// commandOf is the command line that names fs's command, for hints:
// the synopsis's leading words ("tapeml train textcnn").
func commandOf(fs *flag.FlagSet, info *flagInfo) string {
	if info == nil {
		return "tapeml " + fs.Name()
	}
	var words []string
	for _, w := range strings.Fields(info.synopsis) {
		if strings.IndexFunc(w, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') }) >= 0 || strings.HasPrefix(w, "-") {
			break
		}
		words = append(words, w)
	}
	if len(words) < 2 {
		return "tapeml " + fs.Name()
	}
	return strings.Join(words, " ")
}

// completeArgs completes a command's flags (by running it to see its flag
// set, without parsing anything) and, for train, the model kinds.
func completeArgs(c command) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if c.name == "train" && len(args) == 0 && !strings.HasPrefix(toComplete, "-") {
			return kinds.Names(), cobra.ShellCompDirectiveNoFileComp
		}
		if !strings.HasPrefix(toComplete, "-") {
			return nil, cobra.ShellCompDirectiveDefault // files
		}
		fs := captureFlags(c, args)
		if fs == nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		fs.VisitAll(func(f *flag.Flag) {
			if name := "--" + f.Name; strings.HasPrefix(name, toComplete) {
				out = append(out, cobra.CompletionWithDesc(name, strings.SplitN(f.Usage, ";", 2)[0]))
			}
		})
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// captureFlags runs a command only up to its parse, to get its flag set.
func captureFlags(c command, args []string) (fs *flag.FlagSet) {
	defer func() {
		if recover() != nil {
			fs = nil
		}
	}()
	capture := &flagCapture{Writer: io.Discard}
	e := env{stdin: strings.NewReader(""), stdout: capture, stderr: io.Discard}
	if err := c.run(e, slices.Clone(args)); !errors.Is(err, errCaptured) {
		return nil
	}
	return capture.fs
}
