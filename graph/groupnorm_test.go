package graph

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestGroupNormGradients(t *testing.T) {
	for _, c := range []struct {
		shape  []int
		groups int
	}{{[]int{2, 6, 3, 4}, 3}, {[]int{3, 4, 5}, 1}, {[]int{2, 4, 2, 2}, 4}} {
		err := GradCheck(func(b *Builder) (*G.Node, []*G.Node, error) {
			x := randomInput(b, "x", 11, c.shape...)
			y := GroupNorm(b, "gn", x, GroupNormConfig{Groups: c.groups})
			for i, name := range []string{"gn.weight", "gn.bias"} {
				d := b.Params.Get(name).Value.Float64s()
				for j := range d {
					d[j] = float64(i) + 0.5 + 0.1*float64(j)
				}
			}
			return weightedSum(b, y), []*G.Node{x, b.ParamNode("gn.weight"), b.ParamNode("gn.bias")}, nil
		}, GradCheckConfig{Seed: 2})
		if err != nil {
			t.Errorf("shape %v groups %d: %v", c.shape, c.groups, err)
		}
	}
}

func TestDefaultGroups(t *testing.T) {
	for c, want := range map[int]int{64: 32, 128: 32, 32: 32, 16: 16, 48: 16, 3: 1, 1: 1} {
		if got := DefaultGroups(c); got != want {
			t.Errorf("DefaultGroups(%d) = %d, want %d", c, got, want)
		}
	}
}

type groupNormGolden struct {
	Cases []struct {
		Shape            []int
		Groups           int
		X, Weight, Bias  []float64
		R                []float64
		Float64, Float32 struct {
			Y, Dx, Dweight, Dbias []float64
		}
	}
}

// TestGroupNormParity compares with torch.nn.GroupNorm
// (tools/pytorch/groupnorm_golden.py): float64 within 1e-9, float32 1e-4.
func TestGroupNormParity(t *testing.T) {
	b, err := os.ReadFile("testdata/groupnorm_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g groupNormGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	for ci, c := range g.Cases {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			want, tol := c.Float64, 1e-9
			if dt == tensor.Float32 {
				want, tol = c.Float32, 1e-4
			}
			bl := NewBuilder(NewParams(dt, 1), Train, nil)
			leaf := func(name string, v []float64, shape []int) *G.Node {
				t := tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
				for i, f := range v {
					t.Set(i, castFloat(dt, f))
				}
				return G.NewTensor(bl.G, dt, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(t))
			}
			x := leaf("x", c.X, c.Shape)
			y := GroupNorm(bl, "gn", x, GroupNormConfig{Groups: c.Groups})
			for name, v := range map[string][]float64{"gn.weight": c.Weight, "gn.bias": c.Bias} {
				p := bl.Params.Get(name).Value
				for i, f := range v {
					p.Set(i, castFloat(dt, f))
				}
			}
			loss := G.Must(G.Sum(G.Must(G.HadamardProd(y, leaf("r", c.R, c.Shape)))))
			grads, err := G.Grad(loss, x, bl.ParamNode("gn.weight"), bl.ParamNode("gn.bias"))
			if err != nil {
				t.Fatal(err)
			}
			vm := G.NewTapeMachine(bl.G)
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			check := func(what string, got G.Value, want []float64) {
				d := got.(*tensor.Dense)
				for i, w := range want {
					v := toFloat64(d.Get(i))
					if math.Abs(v-w) > tol*math.Max(1, math.Abs(w)) {
						t.Errorf("case %d %v %s[%d]: %.12g, PyTorch %.12g", ci, dt, what, i, v, w)
						return
					}
				}
			}
			check("y", y.Value(), want.Y)
			check("dx", grads[0].Value(), want.Dx)
			check("dweight", grads[1].Value(), want.Dweight)
			check("dbias", grads[2].Value(), want.Dbias)
			vm.Close()
		}
	}
}

func toFloat64(v any) float64 {
	if f, ok := v.(float32); ok {
		return float64(f)
	}
	return v.(float64)
}
