package optim

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestConfigDefaults(t *testing.T) {
	cases := []struct {
		in, want Config
	}{
		{Config{Name: SGD}, Config{Name: SGD}},
		{Config{Name: Adam}, Config{Name: Adam, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}},
		{Config{Name: AdamW}, Config{Name: AdamW, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01}},
		{Config{Name: AdamW, WeightDecay: 0.1, Beta2: 0.95}, Config{Name: AdamW, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.1}},
		{Config{Name: RMSProp, Momentum: 0.5}, Config{Name: RMSProp, Momentum: 0.5, Alpha: 0.99, Eps: 1e-8}},
	}
	for _, c := range cases {
		got, err := c.in.WithDefaults()
		if err != nil {
			t.Errorf("%+v: %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("%+v.WithDefaults() = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		cfg  Config
		want string // the field the error must name
	}{
		{Config{}, "name is empty"},
		{Config{Name: "adagrad"}, `unknown optimizer "adagrad"`},
		{Config{Name: SGD, Momentum: -0.1}, "momentum = -0.1"},
		{Config{Name: SGD, Nesterov: true}, "nesterov"},
		{Config{Name: SGD, Momentum: 0.9, Dampening: 0.1, Nesterov: true}, "nesterov"},
		{Config{Name: SGD, Beta1: 0.9}, "beta1 is set but sgd"},
		{Config{Name: Adam, Momentum: 0.9}, "momentum is set but adam"},
		{Config{Name: Adam, Beta1: 1}, "beta1 = 1"},
		{Config{Name: Adam, Beta2: -0.5}, "beta2 = -0.5"},
		{Config{Name: Adam, Eps: math.NaN()}, "eps = NaN"},
		{Config{Name: AdamW, WeightDecay: -1}, "weight_decay = -1"},
		{Config{Name: RMSProp, AMSGrad: true}, "amsgrad is set but rmsprop"},
		{Config{Name: RMSProp, Alpha: -1}, "alpha = -1"},
		{Config{Name: SGD, L1: -0.1}, "l1 = -0.1"},
		{Config{Name: SGD, ClipNorm: math.Inf(1)}, "clip_norm = +Inf"},
	}
	for _, c := range cases {
		_, err := New(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v) error = %v, want one containing %q", c.cfg, err, c.want)
		}
	}
}

func TestStepErrorsChangeNothing(t *testing.T) {
	good := func() Param {
		return Param{Name: "w", Shape: []int{2, 2}, Value: []float32{1, 2, 3, 4}, Grad: []float32{1, 1, 1, 1}}
	}
	bad := func(f func(*Param)) []Param {
		p := good()
		f(&p)
		return []Param{good(), p}
	}
	cases := []struct {
		name   string
		params []Param
		lr     float64
		want   string
	}{
		{"negative lr", []Param{good()}, -1, "learning rate -1"},
		{"NaN lr", []Param{good()}, math.NaN(), "learning rate NaN"},
		{"shape", bad(func(p *Param) { p.Name, p.Shape = "v", []int{3} }), 0.1, `"v": shape [3] holds 3 values, Value has 4`},
		{"grad length", bad(func(p *Param) { p.Name, p.Grad = "v", p.Grad[:3] }), 0.1, `"v": Grad has 3 values`},
		{"duplicate", bad(func(*Param) {}), 0.1, `"w" appears twice`},
		{"duplicate reshaped", bad(func(p *Param) { p.Shape = []int{4} }), 0.1, `"w" appears twice`},
		{"NaN gradient", bad(func(p *Param) { p.Name, p.Grad[1] = "v", float32(math.NaN()) }), 0.1, "gradient norm is NaN"},
		{"Inf gradient", bad(func(p *Param) { p.Name, p.Grad[1] = "v", float32(math.Inf(-1)) }), 0.1, "gradient norm is +Inf"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opt, _ := New(Config{Name: Adam})
			before := make([][]float32, len(c.params))
			for i, p := range c.params {
				before[i] = append([]float32(nil), p.Value...)
			}
			err := opt.Step(c.params, c.lr)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Step error = %v, want one containing %q", err, c.want)
			}
			if strings.Contains(c.name, "gradient") && !errors.Is(err, ErrNonFiniteGrad) {
				t.Errorf("error %v does not wrap ErrNonFiniteGrad", err)
			}
			for i, p := range c.params {
				if !reflect.DeepEqual(p.Value, before[i]) {
					t.Errorf("failed Step changed %s to %v", p.Name, p.Value)
				}
			}
			if st := opt.State(); st.Step != 0 || len(st.Slots) != 0 {
				t.Errorf("failed Step left state %+v", st)
			}
			// The optimizer is still usable, and its first real step is step 1.
			ok := []Param{good()}
			if err := opt.Step(ok, 0.1); err != nil {
				t.Fatal(err)
			}
			if st := opt.State(); st.Step != 1 || len(st.Slots) != 2 {
				t.Errorf("after recovery: step %d with %d slots, want 1 with 2", st.Step, len(st.Slots))
			}
		})
	}
}

// TestParamsJoiningLate: an update that depends on the step count (Adam's
// bias correction) cannot take a parameter that missed earlier steps; the
// others can, as in PyTorch.
func TestParamsJoiningLate(t *testing.T) {
	for _, c := range []struct {
		cfg     Config
		refuses bool
	}{
		{Config{Name: SGD, Momentum: 0.9}, false},
		{Config{Name: RMSProp}, false},
		{Config{Name: Adam}, true},
		{Config{Name: AdamW}, true},
	} {
		opt, _ := New(c.cfg)
		a := Param{Name: "a", Shape: []int{1}, Value: []float32{1}, Grad: []float32{1}}
		b := Param{Name: "b", Shape: []int{1}, Value: []float32{1}, Grad: []float32{1}}
		if err := opt.Step([]Param{a}, 0.1); err != nil {
			t.Fatal(err)
		}
		err := opt.Step([]Param{a, b}, 0.1)
		if refused := err != nil; refused != c.refuses {
			t.Errorf("%s: second Step with a new parameter: error %v, want refused=%v", c.cfg.Name, err, c.refuses)
		}
		// Stepping a subset (b frozen) is always fine, and so is no parameter.
		if err := opt.Step([]Param{a}, 0.1); err != nil {
			t.Errorf("%s: Step with a subset: %v", c.cfg.Name, err)
		}
		if err := opt.Step(nil, 0.1); err != nil {
			t.Errorf("%s: Step with no parameters: %v", c.cfg.Name, err)
		}
	}
}

// TestL1 checks the penalty by hand: with a zero gradient, SGD at rate lr
// moves every weight by lr·L1 towards zero and leaves zeros alone.
func TestL1(t *testing.T) {
	const half = 1 / (2 + 1e-6) // clip_grad_norm_'s factor for norm 2, max 1
	cases := []struct {
		cfg  Config
		lr   float64
		w, g []float32
		want []float32
		norm float64
	}{
		{Config{Name: SGD, L1: 0.5}, 0.1, []float32{1, -2, 0}, []float32{0, 0, 0}, []float32{0.95, -1.95, 0}, math.Sqrt(0.5)},
		{Config{Name: SGD, L1: 0.5}, 0.1, []float32{1, -2, 0}, []float32{1, 1, 1}, []float32{0.85, -2.05, -0.1}, math.Sqrt(1.5*1.5 + 0.5*0.5 + 1)},
		// Clipping sees the L1 term: norm 2, clipped to 1, halves each gradient.
		{Config{Name: SGD, L1: 1, ClipNorm: 1}, 1, []float32{3, -3, 0, 0}, []float32{0, 0, 1, -1}, []float32{3 - half, -3 + half, -half, half}, 2},
	}
	for _, c := range cases {
		opt, err := New(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		p := Param{Name: "w", Shape: []int{len(c.w)}, Value: append([]float32(nil), c.w...), Grad: c.g}
		if err := opt.Step([]Param{p}, c.lr); err != nil {
			t.Fatal(err)
		}
		if e := tensorErr(p.Value, c.want); e > 1e-6 {
			t.Errorf("%+v on %v with grad %v: got %v, want %v", c.cfg, c.w, c.g, p.Value, c.want)
		}
		if got := opt.GradNorm(); math.Abs(got-c.norm) > 1e-6*c.norm {
			t.Errorf("%+v: GradNorm = %v, want %v", c.cfg, got, c.norm)
		}
	}
}

// TestNoAllocations: after the first Step creates the state, Step must not
// allocate, whatever the configuration.
func TestNoAllocations(t *testing.T) {
	for _, cfg := range []Config{
		{Name: SGD, Momentum: 0.9, Nesterov: true, WeightDecay: 1e-4, L1: 1e-5, ClipNorm: 1},
		{Name: Adam, AMSGrad: true, ClipNorm: 1},
		{Name: AdamW},
		{Name: RMSProp, Momentum: 0.9, Centered: true, WeightDecay: 1e-4},
	} {
		opt, _ := New(cfg)
		params := benchParams(1000)
		if err := opt.Step(params, 0.01); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(10, func() {
			if err := opt.Step(params, 0.01); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per Step", cfg.Name, allocs)
		}
	}
}

// TestSparseRowsGiveTheDenseUpdate: a gradient with Rows gives the same
// weights and gradient norm as the dense update, for every configuration,
// and SGD then leaves the other rows untouched.
func TestSparseRowsGiveTheDenseUpdate(t *testing.T) {
	const rows, width = 6, 3
	for _, cfg := range []Config{{Name: SGD}, {Name: SGD, ClipNorm: 0.5}, {Name: SGD, Momentum: 0.9}, {Name: SGD, WeightDecay: 0.1}, {Name: Adam}} {
		w := func() []float32 {
			v := make([]float32, rows*width)
			for i := range v {
				v[i] = float32(i%7) - 3
			}
			return v
		}
		g := make([]float32, rows*width)
		touched := []int32{4, 1}
		for _, r := range touched {
			for j := 0; j < width; j++ {
				g[int(r)*width+j] = float32(r) - float32(j)*0.5
			}
		}
		dense, sparse := w(), w()
		od, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		os, _ := New(cfg)
		for step := 0; step < 3; step++ {
			if err := od.Step([]Param{{Name: "e", Shape: []int{rows, width}, Value: dense, Grad: g}}, 0.1); err != nil {
				t.Fatal(err)
			}
			if err := os.Step([]Param{{Name: "e", Shape: []int{rows, width}, Value: sparse, Grad: g, Rows: touched}}, 0.1); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(dense, sparse) || math.Abs(od.GradNorm()-os.GradNorm()) > 1e-12 {
				t.Fatalf("%+v step %d: sparse %v (norm %v), dense %v (norm %v)", cfg, step, sparse, os.GradNorm(), dense, od.GradNorm())
			}
		}
	}
}
