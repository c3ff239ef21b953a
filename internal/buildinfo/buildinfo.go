// Package buildinfo words the module version and VCS revision a binary was
// built from, the one way: `tapeml --version` prints it and model cards
// record it.
package buildinfo

import (
	"fmt"
	"runtime/debug"
)

// Version is the running binary's version line: module version, commit
// and Go version. A `go install …@version` build knows its module
// version; a build in a git checkout knows its commit (not in a git
// worktree, which cmd/go does not recognise).
func Version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown version)"
	}
	return Of(info)
}

// Of words info as Version does.
func Of(info *debug.BuildInfo) string {
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
