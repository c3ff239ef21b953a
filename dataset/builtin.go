package dataset

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
)

// BuiltinPrefix starts the name of a data set compiled into the program,
// which a path of that form names wherever a data path is read:
// "builtin:spamassassin-sample". Package samples registers tapeml's.
const BuiltinPrefix = "builtin:"

var (
	builtinMu sync.RWMutex
	builtins  = map[string]any{}
)

// IsBuiltin reports whether path names a built-in data set.
func IsBuiltin(path string) bool { return strings.HasPrefix(path, BuiltinPrefix) }

// RegisterBuiltin registers the loader of a built-in data set under name
// (BuiltinPrefix + a short name). The loader's type is the data package's
// to choose; Builtin returns it by that type.
func RegisterBuiltin(name string, loader any) {
	builtinMu.Lock()
	defer builtinMu.Unlock()
	if !IsBuiltin(name) || builtins[name] != nil {
		panic("dataset: RegisterBuiltin " + name + ": not a " + BuiltinPrefix + " name, or registered twice")
	}
	builtins[name] = loader
}

// Builtin returns the loader registered as name, of type L.
func Builtin[L any](name string) (L, error) {
	builtinMu.RLock()
	loader, ok := builtins[name]
	known := make([]string, 0, len(builtins))
	for n := range builtins {
		known = append(known, n)
	}
	builtinMu.RUnlock()
	var zero L
	if !ok {
		if len(known) == 0 {
			return zero, fmt.Errorf("%s: no built-in data set is linked into this program (import github.com/tapeml/tapeml/samples)", name)
		}
		sort.Strings(known)
		return zero, fmt.Errorf("%s: unknown built-in data set (known: %s)", name, strings.Join(known, ", "))
	}
	l, ok := loader.(L)
	if !ok {
		return zero, fmt.Errorf("%s is a built-in data set of another kind (%T)", name, loader)
	}
	return l, nil
}

var builtinContents = map[string]func(io.Writer) error{}

// RegisterBuiltinContent registers what the built-in data set name is made
// of: write writes its bytes (its embedded files) to a writer, the same
// bytes every time, so that a content hash (a model card's) names the data.
func RegisterBuiltinContent(name string, write func(io.Writer) error) {
	builtinMu.Lock()
	defer builtinMu.Unlock()
	if !IsBuiltin(name) || builtinContents[name] != nil {
		panic("dataset: RegisterBuiltinContent " + name + ": not a " + BuiltinPrefix + " name, or registered twice")
	}
	builtinContents[name] = write
}

// WriteBuiltinContent writes the bytes of the built-in data set name to w
// (see RegisterBuiltinContent).
func WriteBuiltinContent(name string, w io.Writer) error {
	builtinMu.RLock()
	write, ok := builtinContents[name]
	builtinMu.RUnlock()
	if !ok {
		return fmt.Errorf("%s: no built-in data set of that name with registered content is linked into this program", name)
	}
	return write(w)
}
