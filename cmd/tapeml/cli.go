package main

// The command line on cobra and pflag: each command is a *cobra.Command
// whose flags are declared on its own flag set; cobra parses them
// (anywhere on the line, --name value or --name=value), prints help and
// completes. Two things are added: Go-style single-dash long flags
// (-epochs 3), which goStyle rewrites before parsing, and one-line flag
// errors that name the flag probably meant (flagError).

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// usageTemplate is every command's help: its synopsis and flags.
const usageTemplate = `Usage: {{.UseLine}}{{if .HasAvailableSubCommands}}

Commands:{{range .Commands}}{{if .IsAvailableCommand}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

Flags:
{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}
`

// newRoot builds the command tree.
func newRoot(e env) *cobra.Command {
	root := &cobra.Command{
		Use:   "tapeml",
		Short: "train, evaluate and run neural-network models defined as Gorgonia graphs",
		Long: "tapeml trains, evaluates and runs neural-network models defined as Gorgonia graphs.\n\n" +
			"Flags go anywhere after the command, as --name value or --name=value (-name value works too).\n" +
			"Exit status: 0 success, 1 failed operation, 2 usage error, 3 internal error, 130 interrupted.",
		Version:       version(),
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SuggestionsMinimumDistance = 2
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetVersionTemplate("tapeml {{.Version}}\n")
	root.SetFlagErrorFunc(flagError)
	for _, c := range []*cobra.Command{
		trainCmd(e), evalCmd(e), predictCmd(e), explainCmd(e), recommendCmd(e), similarCmd(e),
		exportCmd(e), importCmd(e), modelsCmd(e), benchCmd(e), serveCmd(e), optimizeCmd(e), privacyCmd(e),
		publishCmd(e), versionsCmd(e), compareCmd(e), promoteCmd(e), rollbackCmd(e),
	} {
		setup(c)
		root.AddCommand(c)
	}
	root.InitDefaultCompletionCmd()
	return root
}

// setup gives a command and its subcommands the usage template, the
// silence of errors (run prints them) and the one-line flag errors.
func setup(c *cobra.Command) {
	c.SilenceErrors, c.SilenceUsage, c.DisableFlagsInUseLine = true, true, true
	c.SetUsageTemplate(usageTemplate)
	c.SetFlagErrorFunc(flagError)
	c.Flags().SortFlags = true
	for _, sub := range c.Commands() {
		setup(sub)
	}
}

// noArgs refuses positional arguments.
func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	return nil
}

// goStyle rewrites Go-style long flags of cmd (-epochs 3, -json) to
// --epochs 3 and --json, leaving values, negative numbers and everything
// after "--" alone.
func goStyle(cmd *cobra.Command, args []string) []string {
	fs := cmd.Flags()
	out := slices.Clone(args)
	for i := 0; i < len(out); i++ {
		a := out[i]
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" || len(a) > 1 && (a[1] >= '0' && a[1] <= '9' || a[1] == '.') {
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
		if !hasValue && f.NoOptDefVal == "" {
			i++ // the next argument is this flag's value
		}
	}
	return out
}

// flagError turns pflag's error into one line naming the flag, with the
// flag probably meant and where the help is.
func flagError(c *cobra.Command, err error) error {
	if !c.HasParent() {
		return &usageError{fmt.Sprintf("%v; see 'tapeml --help'", err)}
	}
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
		msg = "unknown flag " + dash(name)
		if s := suggestFlag(c.Flags(), name); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", dash(s))
		}
	case errors.As(err, &needs):
		msg = fmt.Sprintf("flag %s needs a value", dash(needs.GetFlag().Name))
	case errors.As(err, &invalid):
		msg = fmt.Sprintf("invalid value %q for %s: %v", invalid.GetValue(), dash(invalid.GetFlag().Name), invalid.Unwrap())
	}
	return &usageError{fmt.Sprintf("%s; see '%s --help'", msg, c.CommandPath())}
}

// suggestFlag is the flag of fs closest to name, if it is close.
func suggestFlag(fs *pflag.FlagSet, name string) string {
	best, bestD := "", 3
	fs.VisitAll(func(f *pflag.Flag) {
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

// changed reports whether the flag called name was given.
func changed(fs *pflag.FlagSet, name string) bool {
	f := fs.Lookup(name)
	return f != nil && f.Changed
}
