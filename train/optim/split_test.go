package optim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestSplitUpdateSameBits steps one parameter large enough for Step to
// split its update across goroutines, and the same values as pieces small
// enough to be updated in one call each (sizes multiple of 64, so every
// element meets the same vector or scalar loop), with every rule: the
// weights (which follow the state) must agree bit for bit after each step.
func TestSplitUpdateSameBits(t *testing.T) {
	const n, piece = 1<<20 + 37, 1 << 16
	configs := []Config{
		{Name: SGD, Momentum: 0.9},
		{Name: SGD, Momentum: 0.9, Nesterov: true, WeightDecay: 1e-3},
		{Name: Adam},
		{Name: AdamW},
		{Name: RMSProp, Momentum: 0.5, Centered: true},
	}
	for c, cfg := range configs {
		t.Run(fmt.Sprint(c, cfg.Name), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, 6))
			w, g := make([]float32, n), make([]float32, n)
			for i := range w {
				w[i] = float32(rng.NormFloat64())
			}
			whole, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			pieces, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			big := []Param{{Name: "w", Shape: []int{n}, Value: append([]float32(nil), w...), Grad: g}}
			var small []Param
			for from := 0; from < n; from += piece {
				to := min(from+piece, n)
				small = append(small, Param{Name: fmt.Sprint("w", from), Shape: []int{to - from}, Value: append([]float32(nil), w[from:to]...), Grad: g[from:to]})
			}
			for step := range 3 {
				for i := range g {
					g[i] = float32(rng.NormFloat64())
				}
				if err := whole.Step(big, 0.01); err != nil {
					t.Fatal(err)
				}
				if err := pieces.Step(small, 0.01); err != nil {
					t.Fatal(err)
				}
				for _, p := range small {
					var from int
					fmt.Sscan(p.Name[1:], &from)
					for i, v := range p.Value {
						if got := big[0].Value[from+i]; math.Float32bits(got) != math.Float32bits(v) {
							t.Fatalf("step %d: w[%d] = %v split, %v in one call", step, from+i, got, v)
						}
					}
				}
			}
		})
	}
}

// TestSplitNormSameBits checks that a large parameter's gradient norm,
// summed in parts on several goroutines, has the same bits on one thread
// and on four (with and without L1), and that it is the norm.
func TestSplitNormSameBits(t *testing.T) {
	const n = 1<<20 + 3*normPart + 37
	rng := rand.New(rand.NewPCG(7, 8))
	w, g := make([]float32, n), make([]float32, n)
	for i := range w {
		w[i], g[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	for _, l1 := range []float64{0, 1e-3} {
		var norms []float64
		for _, procs := range []int{1, 2, 4} {
			prev := runtime.GOMAXPROCS(procs)
			opt, err := New(Config{Name: SGD, L1: l1})
			if err != nil {
				t.Fatal(err)
			}
			err = opt.Step([]Param{{Name: "w", Shape: []int{n}, Value: append([]float32(nil), w...), Grad: g}}, 0)
			runtime.GOMAXPROCS(prev)
			if err != nil {
				t.Fatal(err)
			}
			norms = append(norms, opt.GradNorm())
		}
		var want float64
		for i, v := range g {
			x := float64(v + float32(l1)*sign(w[i]))
			want += x * x
		}
		want = math.Sqrt(want)
		if math.Float64bits(norms[0]) != math.Float64bits(norms[1]) || math.Float64bits(norms[0]) != math.Float64bits(norms[2]) {
			t.Fatalf("l1 %v: norms %v on 1, 2 and 4 threads differ", l1, norms)
		}
		if math.Abs(norms[0]-want) > 1e-12*want {
			t.Fatalf("l1 %v: norm %v, want %v", l1, norms[0], want)
		}
	}
}
