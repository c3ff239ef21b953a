package privacy

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

type goldenFile struct {
	Orders []float64 `json:"orders"`
	Cases  []struct {
		Q     float64   `json:"q"`
		Sigma float64   `json:"sigma"`
		Steps int       `json:"steps"`
		RDP   []float64 `json:"rdp"`
		Eps   []struct {
			Delta          float64 `json:"delta"`
			Epsilon        float64 `json:"epsilon"`
			Order          float64 `json:"order"`
			ClassicEpsilon float64 `json:"classic_epsilon"`
			ClassicOrder   float64 `json:"classic_order"`
		} `json:"eps"`
	} `json:"cases"`
}

func close(got, want float64) bool {
	if math.IsInf(want, 0) {
		return got == want
	}
	return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want))
}

// TestOpacusGolden compares with values made by Opacus's rdp.py itself
// (tools/privacy/rdp_golden.py).
func TestOpacusGolden(t *testing.T) {
	b, err := os.ReadFile("testdata/rdp_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g goldenFile
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Orders) != len(DefaultOrders) {
		t.Fatalf("golden has %d orders, DefaultOrders %d", len(g.Orders), len(DefaultOrders))
	}
	for i, o := range g.Orders {
		if o != DefaultOrders[i] {
			t.Fatalf("order %d: golden %v, DefaultOrders %v", i, o, DefaultOrders[i])
		}
	}
	for _, c := range g.Cases {
		rdp, err := RDP(c.Q, c.Sigma, c.Steps, DefaultOrders)
		if err != nil {
			t.Fatalf("q %v sigma %v steps %d: %v", c.Q, c.Sigma, c.Steps, err)
		}
		for i := range rdp {
			if !close(rdp[i], c.RDP[i]) {
				t.Errorf("q %v sigma %v steps %d order %v: RDP %.17g, Opacus %.17g", c.Q, c.Sigma, c.Steps, DefaultOrders[i], rdp[i], c.RDP[i])
			}
		}
		for _, e := range c.Eps {
			for _, conv := range []Conversion{Balle, Classic} {
				we, wo := e.Epsilon, e.Order
				if conv == Classic {
					we, wo = e.ClassicEpsilon, e.ClassicOrder
				}
				sp, err := Compute(c.Q, c.Sigma, c.Steps, e.Delta, conv)
				if err != nil {
					t.Fatal(err)
				}
				if !close(sp.Epsilon, we) || sp.Order != wo {
					t.Errorf("q %v sigma %v steps %d delta %v %v: epsilon %.17g at %v, Opacus %.17g at %v",
						c.Q, c.Sigma, c.Steps, e.Delta, conv, sp.Epsilon, sp.Order, we, wo)
				}
			}
		}
	}
}
