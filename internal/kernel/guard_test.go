package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The tests follow gonum's internal/asm: every kernel against a plain Go
// reference, on sizes around the vector widths and tiles (tails included),
// with guard regions around what it may write.

// guardLen floats of guard surround the buffers a kernel writes, so a
// stray write before or after shows.
const guardLen = 64

// guard is a finite value: a NaN would survive a stray read-add-write
// unchanged.
var guard = float32(-1234.5678)

// sizes are the lengths and matrix sides the tests try: empty, below,
// at and around the vector widths (8, 16) and tiles (6, 12, 16, 32).
var sizes = []int{0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 65}

// guardedF32 is n floats with guardLen guard floats before and after them
// in one allocation.
type guardedF32 struct {
	all []float32
	n   int
}

func newGuardedF32(n int) guardedF32 {
	all := make([]float32, n+2*guardLen)
	for i := range all {
		all[i] = guard
	}
	return guardedF32{all, n}
}

// v is the n floats between the guards.
func (g guardedF32) v() []float32 { return g.all[guardLen : guardLen+g.n] }

// check fails t if a guard float changed.
func (g guardedF32) check(t *testing.T, name string) {
	t.Helper()
	for i, x := range g.all {
		if i >= guardLen && i < guardLen+g.n {
			continue
		}
		if math.Float32bits(x) != math.Float32bits(guard) {
			t.Fatalf("%s: wrote %v at %d of a guard region (buffer of %d between %d guard floats)", name, x, i-guardLen, g.n, guardLen)
		}
	}
}

func randFloats(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// levels runs f at every level the CPU and the build have.
func levels(t *testing.T, f func(t *testing.T, l Level)) {
	t.Helper()
	for l := Generic; l <= Supported(); l++ {
		t.Run(l.String(), func(t *testing.T) {
			defer Set(l)()
			f(t, l)
		})
	}
}

// TestLevels checks that every level the build has can be set and that
// Set restores the previous one.
func TestLevels(t *testing.T) {
	before := Active()
	for l := Generic; l <= Supported(); l++ {
		restore := Set(l)
		if Active() != l {
			t.Fatalf("after Set(%s), Active() = %s", l, Active())
		}
		restore()
		if Active() != before {
			t.Fatalf("restore after Set(%s) left %s, want %s", l, Active(), before)
		}
	}
	if Supported() < AVX512 && VNNI() {
		t.Fatalf("VNNI without AVX-512")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Errorf("Set(%s) above the supported %s did not panic", Supported()+1, Supported())
			}
		}()
		Set(Supported() + 1)
	}()
	if s := fmt.Sprint(Level(7)); s != "Level(7)" {
		t.Errorf("Level(7) prints as %q", s)
	}
}
