package optim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tapeml/tapeml/internal/kernel"
)

// kernelSizes are the lengths of internal/kernel's guard tests: empty,
// below, at and around the vector widths (8, 16), and a few vectors.
var kernelSizes = []int{0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 65, 100}

// guardLen floats of guard surround every buffer an update touches.
const guardLen = 32

const guardValue = float32(-1234.5678)

// guarded is n floats between guard regions, in one allocation.
type guarded struct {
	all []float32
	n   int
}

func newGuarded(rng *rand.Rand, n int, pos bool) guarded {
	g := guarded{make([]float32, n+2*guardLen), n}
	for i := range g.all {
		g.all[i] = guardValue
	}
	for i := range g.v() {
		x := float32(rng.NormFloat64())
		if pos {
			x *= x
		}
		g.v()[i] = x
	}
	return g
}

func (g guarded) v() []float32   { return g.all[guardLen : guardLen+g.n] }
func (g guarded) clone() guarded { return guarded{append([]float32(nil), g.all...), g.n} }

// A whole update step of every rule that calls a vector kernel (its
// vector prefix, then its Go loop for the rest) at every kernel level,
// against the same step at the generic level — the pure-Go loop alone —
// on lengths around the vector widths, with guard regions around the
// weights, the gradient and every slot; three steps, so the slots carry.
func TestUpdatesAtEveryLevel(t *testing.T) {
	for _, cfg := range []Config{
		{Name: SGD},
		{Name: SGD, Momentum: 0.9},
		{Name: SGD, Momentum: 0.9, Dampening: 0.25},
		{Name: SGD, Momentum: 0.9, Nesterov: true},
		{Name: Adam},
		{Name: Adam, AMSGrad: true},
		{Name: AdamW, WeightDecay: 0.01},
	} {
		name := fmt.Sprintf("%s momentum %v dampening %v nesterov %v amsgrad %v", cfg.Name, cfg.Momentum, cfg.Dampening, cfg.Nesterov, cfg.AMSGrad)
		t.Run(name, func(t *testing.T) {
			for _, n := range kernelSizes {
				// The start: weights, three gradients, zero slots.
				rng := rand.New(rand.NewPCG(uint64(n), 51))
				w0 := newGuarded(rng, n, false)
				grads := []guarded{newGuarded(rng, n, false), newGuarded(rng, n, false), newGuarded(rng, n, false)}
				run := func(l kernel.Level) (w guarded, slots []guarded) {
					defer kernel.Set(l)()
					o, err := New(cfg)
					if err != nil {
						t.Fatal(err)
					}
					r := o.(*optimizer).rule
					w = w0.clone()
					for range r.slotNames() {
						s := newGuarded(rng, n, false)
						clear(s.v())
						slots = append(slots, s)
					}
					for step, g := range grads {
						vs := make([][]float32, len(slots))
						for i, s := range slots {
							vs[i] = s.v()
						}
						before := g.clone()
						r.prepare(int64(step+1), 0.01)
						r.update(w.v(), g.v(), vs, step == 0)
						for i := range g.all {
							if math.Float32bits(g.all[i]) != math.Float32bits(before.all[i]) {
								t.Fatalf("n=%d at %s: step %d changed the gradient at %d", n, l, step+1, i-guardLen)
							}
						}
					}
					for k, b := range append([]guarded{w}, slots...) {
						for i, x := range b.all {
							if (i < guardLen || i >= guardLen+n) && math.Float32bits(x) != math.Float32bits(guardValue) {
								t.Fatalf("n=%d at %s: buffer %d: wrote %v at %d of a guard region", n, l, k, x, i-guardLen)
							}
						}
					}
					return w, slots
				}
				refW, refSlots := run(kernel.Generic)
				for l := kernel.Generic + 1; l <= kernel.Supported(); l++ {
					w, slots := run(l)
					for k, pair := range append([][2]guarded{{w, refW}}, zipGuarded(slots, refSlots)...) {
						got, want := pair[0].v(), pair[1].v()
						for i := range want {
							// The vector loops fuse multiply-adds that the Go loop
							// rounds through float64: an ulp or two per step.
							if d := math.Abs(float64(got[i] - want[i])); !(d <= 1e-6*math.Max(1e-3, math.Abs(float64(want[i])))) {
								t.Fatalf("n=%d at %s: buffer %d [%d] = %v, pure Go %v", n, l, k, i, got[i], want[i])
							}
						}
					}
				}
			}
		})
	}
}

func zipGuarded(a, b []guarded) [][2]guarded {
	out := make([][2]guarded, len(a))
	for i := range a {
		out[i] = [2]guarded{a[i], b[i]}
	}
	return out
}

// The gradient norm's sum of squares (kernel.SumSquares and its lanes) at
// every level against float64 squares summed in Go, on the same lengths.
func TestPenalizedSquaresAtEveryLevel(t *testing.T) {
	for _, n := range kernelSizes {
		rng := rand.New(rand.NewPCG(uint64(n), 52))
		w, g := newGuarded(rng, n, false), newGuarded(rng, n, false)
		var want float64
		for _, x := range g.v() {
			want += float64(x) * float64(x)
		}
		for l := kernel.Generic; l <= kernel.Supported(); l++ {
			restore := kernel.Set(l)
			got := penalizedSquares(w.v(), g.v(), 0)
			restore()
			if math.Abs(got-want) > 1e-12*math.Max(1, want) {
				t.Fatalf("n=%d at %s: Σg² = %v, want %v", n, l, got, want)
			}
		}
	}
}
