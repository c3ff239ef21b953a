package graph

import (
	"math"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestRowDotAndClampGradients(t *testing.T) {
	cases := []struct {
		name  string
		build func(b *Builder) (*G.Node, []*G.Node, error)
	}{
		{"RowDot", func(b *Builder) (*G.Node, []*G.Node, error) {
			x := randomInput(b, "x", 21, 5, 3)
			y := randomInput(b, "y", 22, 5, 3)
			return weightedSum(b, RowDot(x, y)), []*G.Node{x, y}, nil
		}},
		{"RowDotSquaredNorm", func(b *Builder) (*G.Node, []*G.Node, error) {
			x := randomInput(b, "x", 23, 4, 6)
			return weightedSum(b, RowDot(x, x)), []*G.Node{x}, nil
		}},
		{"RowDotOfEmbeddings", func(b *Builder) (*G.Node, []*G.Node, error) {
			u := constInput(b, "u", []float64{0, 2, 2, 1}, 4, 1)
			i := constInput(b, "i", []float64{3, 0, 1, 3}, 4, 1)
			p := Flatten(Embedding(b, "p", u, 3, 2, NoPadding))
			q := Flatten(Embedding(b, "q", i, 4, 2, NoPadding))
			return weightedSum(b, RowDot(p, q)), []*G.Node{b.ParamNode("p.weight"), b.ParamNode("q.weight")}, nil
		}},
		{"Clamp", func(b *Builder) (*G.Node, []*G.Node, error) {
			// Values away from the bounds: the kink has no finite difference.
			x := constInput(b, "x", []float64{-2, -0.3, 0.2, 0.9, 1.7, 3}, 6)
			return weightedSum(b, Clamp(x, -0.5, 1.5)), []*G.Node{x}, nil
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := GradCheck(c.build, GradCheckConfig{Seed: 3}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestRowDotAndClampValues(t *testing.T) {
	b := NewBuilder(NewParams(tensor.Float64, 1), Eval, nil)
	a := constInput(b, "a", []float64{1, 2, 3, 4, 5, 6}, 2, 3)
	c := constInput(b, "c", []float64{1, 0, -1, 0.5, 0.5, 0.5}, 2, 3)
	dot := RowDot(a, c)
	x := constInput(b, "x", []float64{-1, 0.5, 2, 7, math.NaN()}, 5)
	clamped := Clamp(x, 0.5, 5)
	vm := G.NewTapeMachine(b.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	got := dot.Value().(*tensor.Dense).Float64s()
	if want := []float64{1 - 3, 7.5}; got[0] != want[0] || got[1] != want[1] {
		t.Errorf("RowDot = %v, want %v", got, want)
	}
	cl := clamped.Value().(*tensor.Dense).Float64s()
	want := []float64{0.5, 0.5, 2, 5}
	for i, w := range want {
		if cl[i] != w {
			t.Errorf("Clamp[%d] = %v, want %v", i, cl[i], w)
		}
	}
	if !math.IsNaN(cl[4]) {
		t.Errorf("Clamp(NaN) = %v, want NaN so a diverged model is noticed", cl[4])
	}
}

func TestRowDotShapeErrors(t *testing.T) {
	b := NewBuilder(NewParams(tensor.Float64, 1), Eval, nil)
	a := randomInput(b, "a", 1, 2, 3)
	c := randomInput(b, "c", 2, 3, 2)
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(r.(error).Error(), "expected two [N, D]") {
			t.Fatalf("RowDot of %v and %v: recovered %v, want a shape error", a.Shape(), c.Shape(), r)
		}
	}()
	RowDot(a, c)
}
