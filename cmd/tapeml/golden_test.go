package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

var update = flag.Bool("update", false, "rewrite testdata/flags.golden")

// TestFlagsGolden holds every command's synopsis and flags — name, type,
// default, help — to testdata/flags.golden, first written from the CLI
// before its move to cobra (55fa874). A flag changes only on purpose:
// go test -run FlagsGolden -update, and the diff says what changed.
func TestFlagsGolden(t *testing.T) {
	got := flagsGolden(newRoot(env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard}))
	const path = "testdata/flags.golden"
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\n got %q\nwant %q\n(go test -run FlagsGolden -update rewrites it)", path, i+1, g, w)
			}
		}
	}
}

func flagsGolden(root *cobra.Command) string {
	var b strings.Builder
	var cmds []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			if sub.HasSubCommands() {
				walk(sub)
				continue
			}
			cmds = append(cmds, sub)
		}
	}
	walk(root)
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].CommandPath() < cmds[j].CommandPath() })
	b.WriteString("[tapeml]\n")
	tops := root.Commands()
	sort.Slice(tops, func(i, j int) bool { return tops[i].Name() < tops[j].Name() })
	for _, c := range tops {
		if c.Name() != "help" && c.Name() != "completion" {
			fmt.Fprintf(&b, "%s\t%s\n", c.Name(), c.Short)
		}
	}
	b.WriteString("\n")
	for _, c := range cmds {
		fmt.Fprintf(&b, "[%s]\n", strings.TrimPrefix(c.CommandPath(), "tapeml "))
		fmt.Fprintf(&b, "usage: %s\n", c.UseLine())
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Name != "help" {
				b.WriteString(goldenFlag(f))
			}
		})
		b.WriteString("\n")
	}
	return b.String()
}

func goldenFlag(f *pflag.Flag) string {
	typ, usage := pflag.UnquoteUsage(f)
	if typ == "" {
		typ = "bool"
	}
	def := f.DefValue
	if f.Name == "threads" && def == fmt.Sprint(runtime.GOMAXPROCS(0)) && def != "0" {
		def = "GOMAXPROCS"
	}
	name := "--" + f.Name
	if f.Shorthand != "" {
		name = "-" + f.Shorthand + ", " + name
	}
	return fmt.Sprintf("%s\t%s\t%q\t%s\n", name, typ, def, usage)
}
