package privacy

import (
	"math"
	"strings"
	"testing"
)

// The MNIST DP-SGD settings of Abadi et al. 2016 (q = 256/60000, δ = 1e-5,
// classic conversion) as Opacus's rdp.py reproduces them.
func TestMNISTSettings(t *testing.T) {
	q := 256.0 / 60000
	for _, c := range []struct{ sigma, epochs, eps float64 }{
		{1.12, 60, 2.92},
		{0.6, 30, 9.74},
		{1.2, 10, 1.20},
	} {
		steps, err := StepsForEpochs(c.epochs, q)
		if err != nil {
			t.Fatal(err)
		}
		sp, err := Compute(q, c.sigma, steps, 1e-5, Classic)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(sp.Epsilon-c.eps) > 0.02 {
			t.Errorf("sigma %v, %v epochs (%d steps): epsilon %.4f, want %.2f ± 0.02", c.sigma, c.epochs, steps, sp.Epsilon, c.eps)
		}
		t.Logf("sigma %v, %v epochs: epsilon %.4f at order %v", c.sigma, c.epochs, sp.Epsilon, sp.Order)
	}
}

func TestNoiseForEpsilon(t *testing.T) {
	q := 256.0 / 60000
	for _, c := range []struct {
		target float64
		steps  int
		conv   Conversion
	}{
		{2.92, 14062, Classic},
		{1, 1000, Balle},
		{8, 5000, Balle},
		{3, 30, Classic},
	} {
		s, err := NoiseForEpsilon(c.target, q, c.steps, 1e-5, c.conv)
		if err != nil {
			t.Fatal(err)
		}
		at, _ := Compute(q, s, c.steps, 1e-5, c.conv)
		below, _ := Compute(q, s*(1-2e-6), c.steps, 1e-5, c.conv)
		if at.Epsilon > c.target || below.Epsilon <= c.target {
			t.Errorf("target %v: sigma %v gives %v, sigma·(1−2e-6) gives %v", c.target, s, at.Epsilon, below.Epsilon)
		}
	}
	// With the classic conversion the MNIST setting inverts to σ ≈ 1.12.
	s, _ := NoiseForEpsilon(2.9222, q, 14062, 1e-5, Classic)
	if math.Abs(s-1.12) > 0.001 {
		t.Errorf("sigma for the MNIST setting %v, want 1.12", s)
	}
}

func TestBadInput(t *testing.T) {
	for _, c := range []struct {
		name string
		f    func() error
		want string
	}{
		{"unattainable", func() error { _, err := NoiseForEpsilon(0.05, 0.01, 1000, 1e-5, Balle); return err }, "unattainable"},
		{"delta", func() error { _, err := Compute(0.01, 1, 10, 1, Balle); return err }, "delta"},
		{"q", func() error { _, err := Compute(1.5, 1, 10, 1e-5, Balle); return err }, "sample rate"},
		{"sigma", func() error { _, err := Compute(0.1, -1, 10, 1e-5, Balle); return err }, "noise"},
		{"steps", func() error { _, err := Compute(0.1, 1, -1, 1e-5, Balle); return err }, "steps"},
		{"target", func() error { _, err := NoiseForEpsilon(-1, 0.01, 10, 1e-5, Balle); return err }, "target"},
		{"order", func() error { _, err := RDP(0.1, 1, 1, []float64{1}); return err }, "order"},
	} {
		err := c.f()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestNoNoise(t *testing.T) {
	sp, err := Compute(0.01, 0, 100, 1e-5, Balle)
	if err != nil || !math.IsInf(sp.Epsilon, 1) {
		t.Errorf("sigma 0: %v, %v; want +Inf", sp, err)
	}
	sp, err = Compute(0, 1, 100, 1e-5, Classic)
	if err != nil || sp.Epsilon > 12/62.0 {
		t.Errorf("q 0: %v, %v", sp, err)
	}
}

// Nothing released spends nothing, and ε is never negative (issue 28:
// --epochs 0 printed ε 0.103, δ 0.999999 printed −3.34).
func TestEdges(t *testing.T) {
	for _, conv := range []Conversion{Balle, Classic} {
		for _, c := range []struct {
			q, sigma float64
			steps    int
		}{{0.01, 1, 0}, {0.01, 0, 0}, {0, 1, 100}, {0, 0, 100}} {
			sp, err := Compute(c.q, c.sigma, c.steps, 1e-5, conv)
			if err != nil || sp.Epsilon != 0 {
				t.Errorf("%v q %v sigma %v steps %d: %v, %v; want epsilon 0", conv, c.q, c.sigma, c.steps, sp, err)
			}
		}
		sp, err := Compute(0.01, 1, 100, 0.999999, conv)
		if err != nil || sp.Epsilon < 0 {
			t.Errorf("%v delta 0.999999: %v, %v", conv, sp, err)
		}
		for _, d := range []float64{0, 1, -1, 2, math.NaN()} {
			if _, err := Compute(0.01, 1, 0, d, conv); err == nil {
				t.Errorf("%v delta %v with 0 steps: accepted", conv, d)
			}
			if _, err := NoiseForEpsilon(1, 0.01, 0, d, conv); err == nil {
				t.Errorf("%v NoiseForEpsilon delta %v: accepted", conv, d)
			}
		}
		if s, err := NoiseForEpsilon(1, 0.01, 0, 1e-5, conv); err != nil || s != 0 {
			t.Errorf("%v NoiseForEpsilon with 0 steps: %v, %v; want 0", conv, s, err)
		}
	}
}
