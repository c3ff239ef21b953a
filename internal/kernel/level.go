package kernel

import (
	"fmt"
	"os"
	"strings"
)

// Level is a set of vector instructions; each level includes the ones
// below it.
type Level int

const (
	Generic Level = iota // pure Go
	AVX2                 // AVX2 and FMA
	AVX512               // AVX-512 F, BW, DQ and VL
)

var names = [...]string{Generic: "generic", AVX2: "avx2", AVX512: "avx512"}

func (l Level) String() string {
	if l < 0 || int(l) >= len(names) {
		return fmt.Sprintf("Level(%d)", int(l))
	}
	return names[l]
}

// Env is the environment variable that forces a level.
const Env = "TAPEML_SIMD"

var (
	supported = detect()
	active    = Choose(os.Getenv(Env), supported)
	vnni      = supported >= AVX512 && detectVNNI()
)

// Supported is the highest level the CPU, the OS and the build allow.
func Supported() Level { return supported }

// Active is the level the kernels use.
func Active() Level { return active }

// Choose is the level named by env (a value of TAPEML_SIMD), capped at
// supported; empty means supported. A value that names no level, or a
// level above supported, is reported on standard error and gives
// supported.
func Choose(env string, supported Level) Level {
	env = strings.ToLower(strings.TrimSpace(env))
	if env == "" {
		return supported
	}
	for l, name := range names {
		if env != name {
			continue
		}
		if Level(l) > supported {
			fmt.Fprintf(os.Stderr, "tapeml: %s=%s is not supported by this CPU or build; using %s\n", Env, env, supported)
			return supported
		}
		return Level(l)
	}
	fmt.Fprintf(os.Stderr, "tapeml: %s=%q is not one of avx512, avx2, generic; using %s\n", Env, env, supported)
	return supported
}

// VNNI reports whether the CPU, the OS and the build support AVX-512 VNNI
// (the int8 dot-product instruction vpdpbusd). The int8 kernels use it when
// the active level is AVX512; it is not a level of its own, so TAPEML_SIMD
// still chooses between avx512, avx2 and generic.
func VNNI() bool { return vnni }

// Set makes l (at most Supported) the active level and returns a function
// restoring the previous one. It is for tests that run every path in one
// process, and must not race with running kernels.
func Set(l Level) (restore func()) {
	if l > supported || l < Generic {
		panic(fmt.Sprintf("kernel: level %s is not supported (at most %s)", l, supported))
	}
	old := active
	active = l
	return func() { active = old }
}
