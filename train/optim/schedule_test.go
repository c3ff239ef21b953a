package optim

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

type scheduleGolden struct {
	BaseLR float64 `json:"base_lr"`
	StepLR struct {
		Gamma    float64   `json:"gamma"`
		StepSize int       `json:"step_size"`
		LRs      []float64 `json:"lrs"`
	} `json:"step_lr"`
	ExponentialLR struct {
		Gamma float64   `json:"gamma"`
		LRs   []float64 `json:"lrs"`
	} `json:"exponential_lr"`
	Plateau []struct {
		Config struct {
			Mode          string  `json:"mode"`
			Factor        float64 `json:"factor"`
			Patience      int     `json:"patience"`
			Threshold     float64 `json:"threshold"`
			ThresholdMode string  `json:"threshold_mode"`
			Cooldown      int     `json:"cooldown"`
			MinLR         float64 `json:"min_lr"`
		} `json:"config"`
		Metrics []float64 `json:"metrics"`
		LRs     []float64 `json:"lrs"`
	} `json:"plateau"`
	Cosine struct {
		Base        float64   `json:"base"`
		Min         float64   `json:"min"`
		WarmupSteps int       `json:"warmup_steps"`
		TotalSteps  int       `json:"total_steps"`
		LRs         []float64 `json:"lrs"`
	} `json:"cosine"`
}

func closeLR(got, want float64) bool { return math.Abs(got-want) <= 1e-12*math.Abs(want) }

// TestSchedulesAgainstPyTorch compares the per-step schedules, built through
// NewSchedule with epoch-denominated settings, with PyTorch's per-epoch
// schedulers at every step of every epoch (StepLR), or at epoch starts
// (ExponentialLR, which Exponential interpolates between).
func TestSchedulesAgainstPyTorch(t *testing.T) {
	var g scheduleGolden
	readGolden(t, "schedule_golden.json", &g)
	const spe = 7 // steps per epoch
	build := func(cfg ScheduleConfig) Schedule {
		t.Helper()
		s, err := NewSchedule(cfg, spe)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	step := build(ScheduleConfig{Name: ScheduleStep, LR: g.BaseLR, Gamma: g.StepLR.Gamma, EveryEpochs: g.StepLR.StepSize})
	for e, want := range g.StepLR.LRs {
		for k := range spe {
			if got := step.LR(int64(e*spe + k)); !closeLR(got, want) {
				t.Errorf("step: epoch %d step %d: lr %v, StepLR %v", e, k, got, want)
			}
		}
	}

	exp := build(ScheduleConfig{Name: ScheduleExponential, LR: g.BaseLR, Gamma: g.ExponentialLR.Gamma})
	for e, want := range g.ExponentialLR.LRs {
		if got := exp.LR(int64(e * spe)); !closeLR(got, want) {
			t.Errorf("exponential: epoch %d: lr %v, ExponentialLR %v", e, got, want)
		}
		if e+1 < len(g.ExponentialLR.LRs) {
			next := g.ExponentialLR.LRs[e+1]
			for k := 1; k < spe; k++ {
				if got := exp.LR(int64(e*spe + k)); !(got < want && got > next) {
					t.Errorf("exponential: epoch %d step %d: lr %v not between %v and %v", e, k, got, want, next)
				}
			}
		}
	}

	c := g.Cosine
	cos := build(ScheduleConfig{Name: ScheduleCosine, LR: c.Base, MinLR: c.Min, WarmupSteps: c.WarmupSteps, TotalSteps: c.TotalSteps})
	for it, want := range c.LRs {
		if got := cos.LR(int64(it)); !closeLR(got, want) {
			t.Errorf("cosine: step %d: lr %v, nanoGPT %v", it, got, want)
		}
	}

	for i, pc := range g.Plateau {
		cfg := ScheduleConfig{Name: SchedulePlateau, LR: g.BaseLR, Mode: pc.Config.Mode, Factor: pc.Config.Factor,
			Patience: pc.Config.Patience, Threshold: pc.Config.Threshold, ThresholdMode: pc.Config.ThresholdMode,
			Cooldown: pc.Config.Cooldown, MinLR: pc.Config.MinLR}
		p := build(cfg).(*ReduceOnPlateau)
		for e, m := range pc.Metrics {
			if e == len(pc.Metrics)/2 { // checkpoint and resume half way
				data, err := json.Marshal(p.State())
				if err != nil {
					t.Fatal(err)
				}
				var st PlateauState
				if err := json.Unmarshal(data, &st); err != nil {
					t.Fatal(err)
				}
				p = build(cfg).(*ReduceOnPlateau)
				if err := p.SetState(st); err != nil {
					t.Fatal(err)
				}
			}
			before := p.LR(0)
			reduced := p.Observe(m)
			if got, want := p.LR(int64(e)), pc.LRs[e]; !closeLR(got, want) {
				t.Fatalf("plateau %d: after metric %d (%v): lr %v, ReduceLROnPlateau %v", i, e, m, got, want)
			}
			if reduced != (p.LR(0) < before) {
				t.Errorf("plateau %d: metric %d: Observe returned %v, lr went %v → %v", i, e, reduced, before, p.LR(0))
			}
		}
		if p.State().Epochs != len(pc.Metrics) {
			t.Errorf("plateau %d: %d epochs recorded, want %d", i, p.State().Epochs, len(pc.Metrics))
		}
	}
}

func TestCosineShape(t *testing.T) {
	c := Cosine{Base: 1, Min: 0.1, WarmupSteps: 4, TotalSteps: 14}
	cases := []struct {
		step int64
		want float64
	}{
		{0, 0.2}, {3, 0.8}, {4, 1}, {9, 0.55}, {14, 0.1}, {1000, 0.1},
	}
	for _, k := range cases {
		if got := c.LR(k.step); math.Abs(got-k.want) > 1e-12 {
			t.Errorf("LR(%d) = %v, want %v", k.step, got, k.want)
		}
	}
	// No warm-up, and a degenerate total: no division by zero.
	if got := (Cosine{Base: 1, TotalSteps: 10}).LR(0); got != 1 {
		t.Errorf("no warm-up: LR(0) = %v, want 1", got)
	}
	if got := (Cosine{Base: 1, Min: 0.5, WarmupSteps: 3, TotalSteps: 3}).LR(3); got != 0.5 {
		t.Errorf("total = warm-up: LR(3) = %v, want 0.5", got)
	}
}

func TestPlateauNonFiniteMetricsAreBad(t *testing.T) {
	p, err := NewReduceOnPlateau(1, PlateauConfig{Patience: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []float64{1, math.NaN(), math.Inf(-1)} {
		p.Observe(m)
	}
	if p.LR(0) != 0.1 {
		t.Errorf("after 1, NaN, -Inf with patience 1: lr %v, want 0.1", p.LR(0))
	}
	if st := p.State(); st.Best == nil || *st.Best != 1 {
		t.Errorf("best = %v, want 1", st.Best)
	}
	if _, err := json.Marshal(p.State()); err != nil {
		t.Errorf("state does not encode: %v", err)
	}
}

func TestNewScheduleErrors(t *testing.T) {
	cases := []struct {
		cfg  ScheduleConfig
		spe  int
		want string
	}{
		{ScheduleConfig{Name: "linearly", LR: 1}, 10, `unknown schedule "linearly"`},
		{ScheduleConfig{LR: -1}, 10, "lr = -1"},
		{ScheduleConfig{LR: math.NaN()}, 10, "lr = NaN"},
		{ScheduleConfig{LR: 1, Gamma: 0.5}, 10, `gamma is set but schedule ""`},
		{ScheduleConfig{Name: ScheduleStep, LR: 1}, 10, "every_steps or every_epochs: required"},
		{ScheduleConfig{Name: ScheduleStep, LR: 1, EverySteps: 5, EveryEpochs: 1}, 10, "not both"},
		{ScheduleConfig{Name: ScheduleStep, LR: 1, EveryEpochs: 2}, 0, "every_epochs: needs steps per epoch"},
		{ScheduleConfig{Name: ScheduleStep, LR: 1, EverySteps: 5, Gamma: 2}, 10, "gamma = 2"},
		{ScheduleConfig{Name: ScheduleStep, LR: 1, EverySteps: 5, Patience: 3}, 10, "plateau is set"},
		{ScheduleConfig{Name: ScheduleExponential, LR: 1}, 10, "gamma = 0"},
		{ScheduleConfig{Name: ScheduleExponential, LR: 1, Gamma: 0.9}, 0, "needs steps per epoch"},
		{ScheduleConfig{Name: ScheduleCosine, LR: 1}, 10, "want more than the 0 warm-up steps"},
		{ScheduleConfig{Name: ScheduleCosine, LR: 1, WarmupEpochs: 2, TotalSteps: 20}, 10, "want more than the 20 warm-up steps"},
		{ScheduleConfig{Name: ScheduleCosine, LR: 1, MinLR: 2, TotalSteps: 20}, 10, "min_lr = 2"},
		{ScheduleConfig{Name: ScheduleCosine, LR: 1, TotalSteps: -20}, 10, "negative length"},
		{ScheduleConfig{Name: SchedulePlateau, LR: 1, Mode: "up"}, 10, `mode "up"`},
		{ScheduleConfig{Name: SchedulePlateau, LR: 1, Factor: 1}, 10, "factor = 1"},
		{ScheduleConfig{Name: SchedulePlateau, LR: 1, ThresholdMode: "pct"}, 10, `threshold_mode "pct"`},
		{ScheduleConfig{Name: SchedulePlateau, LR: 1, Patience: -1}, 10, "patience = -1"},
		{ScheduleConfig{Name: SchedulePlateau, LR: 1, WarmupSteps: 3}, 10, "warmup is set"},
	}
	for _, c := range cases {
		_, err := NewSchedule(c.cfg, c.spe)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewSchedule(%+v, %d) error = %v, want one containing %q", c.cfg, c.spe, err, c.want)
		}
	}
}

func TestNewScheduleConverts(t *testing.T) {
	cases := []struct {
		cfg  ScheduleConfig
		want Schedule
	}{
		{ScheduleConfig{LR: 0.1}, Constant{Base: 0.1}},
		{ScheduleConfig{Name: ScheduleStep, LR: 0.1, EveryEpochs: 3}, StepDecay{Base: 0.1, Gamma: 0.1, Every: 300}},
		{ScheduleConfig{Name: ScheduleStep, LR: 0.1, Gamma: 0.5, EverySteps: 7}, StepDecay{Base: 0.1, Gamma: 0.5, Every: 7}},
		{ScheduleConfig{Name: ScheduleExponential, LR: 0.1, Gamma: 0.9}, Exponential{Base: 0.1, Gamma: 0.9, Every: 100}},
		{ScheduleConfig{Name: ScheduleCosine, LR: 0.1, MinLR: 0.01, WarmupSteps: 100, TotalEpochs: 5},
			Cosine{Base: 0.1, Min: 0.01, WarmupSteps: 100, TotalSteps: 500}},
		{ScheduleConfig{Name: ScheduleCosine, LR: 0.1, WarmupEpochs: 1, TotalSteps: 1000},
			Cosine{Base: 0.1, WarmupSteps: 100, TotalSteps: 1000}},
	}
	for _, c := range cases {
		got, err := NewSchedule(c.cfg, 100)
		if err != nil {
			t.Errorf("%+v: %v", c.cfg, err)
			continue
		}
		if got != c.want {
			t.Errorf("NewSchedule(%+v, 100) = %#v, want %#v", c.cfg, got, c.want)
		}
	}
	p, err := NewSchedule(ScheduleConfig{Name: SchedulePlateau, LR: 0.1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := (PlateauConfig{Mode: "min", Factor: 0.1, Patience: 10, Threshold: 1e-4, ThresholdMode: "rel", Eps: 1e-8}); p.(*ReduceOnPlateau).cfg != want {
		t.Errorf("plateau defaults %+v, want %+v", p.(*ReduceOnPlateau).cfg, want)
	}
}

func TestPlateauSetStateErrors(t *testing.T) {
	inf := math.Inf(1)
	cases := []struct {
		st   PlateauState
		want string
	}{
		{PlateauState{LR: -1}, "lr = -1"},
		{PlateauState{LR: 1, Best: &inf}, "best = +Inf"},
		{PlateauState{LR: 1, NumBadEpochs: -2}, "num_bad_epochs = -2"},
		{PlateauState{LR: 1, CooldownCounter: -1}, "cooldown_counter = -1"},
		{PlateauState{LR: 1, Epochs: -1}, "epochs = -1"},
	}
	for _, c := range cases {
		p, _ := NewReduceOnPlateau(1, PlateauConfig{})
		if err := p.SetState(c.st); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("SetState(%+v) error = %v, want one containing %q", c.st, err, c.want)
		}
	}
}

// TestLinearSchedule checks the linear schedule against Hugging Face's
// get_linear_schedule_with_warmup(num_warmup_steps=2,
// num_training_steps=6): its lr_lambda is step/2 during the warm-up, then
// (6−step)/4, floored at 0.
func TestLinearSchedule(t *testing.T) {
	s, err := NewSchedule(ScheduleConfig{Name: ScheduleLinear, LR: 0.1, WarmupSteps: 2, TotalEpochs: 3}, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0, 0.05, 0.1, 0.075, 0.05, 0.025, 0, 0}
	for step, w := range want {
		if got := s.LR(int64(step)); !closeLR(got, w) && !(w == 0 && got == 0) {
			t.Errorf("step %d: lr %v, want %v", step, got, w)
		}
	}
	for _, cfg := range []ScheduleConfig{
		{Name: ScheduleLinear, LR: 0.1, WarmupSteps: 6, TotalSteps: 6},
		{Name: ScheduleLinear, LR: 0.1, TotalSteps: 6, MinLR: 0.01},
	} {
		if _, err := NewSchedule(cfg, 2); err == nil {
			t.Errorf("%+v: accepted", cfg)
		}
	}
}

// TestWarmupRatio: a warm-up given as a share of the total steps.
func TestWarmupRatio(t *testing.T) {
	s, err := NewSchedule(ScheduleConfig{Name: ScheduleLinear, LR: 1, WarmupRatio: 0.1, TotalSteps: 25}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if l := s.(Linear); l.WarmupSteps != 3 || l.TotalSteps != 25 {
		t.Fatalf("%+v: want 3 warm-up steps (⌈2.5⌉) of 25", l)
	}
	for _, r := range []float64{1, -0.1} {
		if _, err := NewSchedule(ScheduleConfig{Name: ScheduleCosine, LR: 1, WarmupRatio: r, TotalSteps: 25}, 5); err == nil {
			t.Errorf("warmup ratio %v accepted", r)
		}
	}
	if _, err := NewSchedule(ScheduleConfig{Name: ScheduleLinear, LR: 1, WarmupRatio: 0.1, WarmupSteps: 2, TotalSteps: 25}, 5); err == nil {
		t.Error("a ratio and steps accepted together")
	}
	// A run of one step: the share would round up to the whole run; the
	// warm-up leaves that step to train at the base rate.
	for _, name := range []string{ScheduleLinear, ScheduleCosine} {
		s, err := NewSchedule(ScheduleConfig{Name: name, LR: 1, WarmupRatio: 0.1, TotalSteps: 1}, 1)
		if err != nil {
			t.Fatalf("%s, one step: %v", name, err)
		}
		if lr := s.LR(0); lr != 1 {
			t.Errorf("%s, one step: lr %v at step 0, want 1", name, lr)
		}
	}
}
