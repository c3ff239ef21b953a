package optim

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestResumeIsBitIdentical runs every golden configuration for six steps
// straight, and again with a stop after three: state saved, encoded to JSON,
// decoded into a fresh optimizer, and the parameters copied, as a
// checkpoint would. Both runs must end with the same bits.
func TestResumeIsBitIdentical(t *testing.T) {
	var g optimGolden
	readGolden(t, "optim_golden.json", &g)
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			stepAll := func(opt Optimizer, params []Param, from, to int) {
				t.Helper()
				for s := from; s < to; s++ {
					for i := range params {
						copy(params[i].Grad, c.Steps[s].Grads[params[i].Name])
					}
					if err := opt.Step(params, c.Steps[s].LR); err != nil {
						t.Fatalf("step %d: %v", s+1, err)
					}
				}
			}
			straight, err := New(c.Config)
			if err != nil {
				t.Fatal(err)
			}
			want := goldenParams(c.Init, c.Shapes)
			stepAll(straight, want, 0, len(c.Steps))

			first, _ := New(c.Config)
			params := goldenParams(c.Init, c.Shapes)
			stepAll(first, params, 0, 3)
			st := first.State()
			// Step on: st must be a copy, not a view of the live state.
			stepAll(first, goldenParams(c.Init, c.Shapes), 3, 4)
			data, err := json.Marshal(st)
			if err != nil {
				t.Fatal(err)
			}
			var saved State
			if err := json.Unmarshal(data, &saved); err != nil {
				t.Fatal(err)
			}
			resumed, _ := New(c.Config)
			if err := resumed.SetState(saved); err != nil {
				t.Fatal(err)
			}
			restored := goldenParams(map[string][]float32{"fc.weight": params[0].Value, "fc.bias": params[1].Value}, c.Shapes)
			stepAll(resumed, restored, 3, len(c.Steps))

			for i := range want {
				for j := range want[i].Value {
					if math.Float32bits(restored[i].Value[j]) != math.Float32bits(want[i].Value[j]) {
						t.Fatalf("%s[%d] after resume = %v, straight run %v", want[i].Name, j, restored[i].Value[j], want[i].Value[j])
					}
				}
			}
			a, b := straight.State(), resumed.State()
			if a.Step != b.Step || len(a.Slots) != len(b.Slots) {
				t.Fatalf("state after resume: step %d with %d slots, straight run step %d with %d slots", b.Step, len(b.Slots), a.Step, len(a.Slots))
			}
			for key, va := range a.Slots {
				vb := b.Slots[key]
				for j := range va {
					if math.Float32bits(va[j]) != math.Float32bits(vb[j]) {
						t.Fatalf("slot %s[%d] after resume = %v, straight run %v", key, j, vb[j], va[j])
					}
				}
			}
		})
	}
}

func TestSetStateErrors(t *testing.T) {
	three := []float32{1, 2, 3}
	cases := []struct {
		name  string
		cfg   Config
		state State
		want  string
	}{
		{"negative step", Config{Name: Adam}, State{Step: -1}, "step -1"},
		{"slots at step 0", Config{Name: Adam},
			State{Slots: map[string][]float32{"b.exp_avg": three}, Shapes: map[string][]int{"b.exp_avg": {3}}}, "step is 0"},
		{"unknown slot", Config{Name: Adam},
			State{Step: 1, Slots: map[string][]float32{"b.momentum_buffer": three}, Shapes: map[string][]int{"b.momentum_buffer": {3}}}, `"b.momentum_buffer"`},
		{"stateless config", Config{Name: SGD},
			State{Step: 1, Slots: map[string][]float32{"b.momentum_buffer": three}, Shapes: map[string][]int{"b.momentum_buffer": {3}}}, "keeps no state"},
		{"missing shape", Config{Name: SGD, Momentum: 0.9},
			State{Step: 1, Slots: map[string][]float32{"b.momentum_buffer": three}}, "no shape"},
		{"shape without slot", Config{Name: SGD, Momentum: 0.9},
			State{Step: 1, Shapes: map[string][]int{"b.momentum_buffer": {3}}}, "no slot"},
		{"shape does not fit", Config{Name: SGD, Momentum: 0.9},
			State{Step: 1, Slots: map[string][]float32{"b.momentum_buffer": three}, Shapes: map[string][]int{"b.momentum_buffer": {2, 2}}}, "holds 4 values, slot has 3"},
		{"missing companion slot", Config{Name: Adam},
			State{Step: 1, Slots: map[string][]float32{"b.exp_avg": three}, Shapes: map[string][]int{"b.exp_avg": {3}}}, "b.exp_avg_sq is missing"},
		{"slots disagree", Config{Name: Adam},
			State{Step: 1,
				Slots:  map[string][]float32{"b.exp_avg": three, "b.exp_avg_sq": three},
				Shapes: map[string][]int{"b.exp_avg": {3}, "b.exp_avg_sq": {3, 1}}}, "other slots"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opt, err := New(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			err = opt.SetState(c.state)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("SetState error = %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestRestoredStateMustFit checks that the first Step after SetState
// refuses state that does not belong to the parameters.
func TestRestoredStateMustFit(t *testing.T) {
	saved := func() State {
		opt, _ := New(Config{Name: Adam})
		ps := []Param{{Name: "fc.weight", Shape: []int{2}, Value: []float32{1, 2}, Grad: []float32{0.1, 0.2}}}
		if err := opt.Step(ps, 0.1); err != nil {
			t.Fatal(err)
		}
		return opt.State()
	}
	cases := []struct {
		name   string
		params []Param
		want   string
	}{
		{"renamed", []Param{{Name: "fc.w", Shape: []int{2}, Value: []float32{1, 2}, Grad: []float32{0, 0}}}, "has no adam state after 1 steps"},
		{"resized", []Param{{Name: "fc.weight", Shape: []int{3}, Value: []float32{1, 2, 3}, Grad: []float32{0, 0, 0}}}, `"fc.weight" has shape [3] but its state (fc.weight.exp_avg) has shape [2]`},
		{"reshaped", []Param{{Name: "fc.weight", Shape: []int{1, 2}, Value: []float32{1, 2}, Grad: []float32{0, 0}}}, "has shape [1 2] but its state"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opt, _ := New(Config{Name: Adam})
			if err := opt.SetState(saved()); err != nil {
				t.Fatal(err)
			}
			err := opt.Step(c.params, 0.1)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Step error = %v, want one containing %q", err, c.want)
			}
			if st := opt.State(); st.Step != 1 {
				t.Errorf("failed Step changed the step count to %d", st.Step)
			}
		})
	}
}

// TestRestoredStateUnmatched: an algorithm that lets parameters join late
// still refuses a restored state whose parameter is absent from the first
// Step, which is how a renamed parameter shows up.
func TestRestoredStateUnmatched(t *testing.T) {
	opt, _ := New(Config{Name: SGD, Momentum: 0.9})
	err := opt.SetState(State{Step: 4,
		Slots:  map[string][]float32{"fc.weight.momentum_buffer": {1, 2}},
		Shapes: map[string][]int{"fc.weight.momentum_buffer": {2}}})
	if err != nil {
		t.Fatal(err)
	}
	ps := []Param{{Name: "fc.w", Shape: []int{2}, Value: []float32{1, 2}, Grad: []float32{0.1, 0.2}}}
	err = opt.Step(ps, 0.1)
	if want := `restored state for parameter "fc.weight"`; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Step error = %v, want one containing %q", err, want)
	}
	if ps[0].Value[0] != 1 {
		t.Errorf("failed Step changed the parameter")
	}
	ps[0].Name = "fc.weight"
	if err := opt.Step(ps, 0.1); err != nil {
		t.Fatalf("Step with the right name: %v", err)
	}
	if got := opt.State().Slots["fc.weight.momentum_buffer"][0]; got != float32(0.9*1+0.1) {
		t.Errorf("momentum buffer after restore and step = %v, want %v", got, float32(0.9*1+0.1))
	}
}
