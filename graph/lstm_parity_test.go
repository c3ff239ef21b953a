package graph

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The golden is written by tools/pytorch/lstm_golden.py with PyTorch 1.13:
// regenerate it with /usr/bin/python3 tools/pytorch/lstm_golden.py.
const lstmParityGolden = "testdata/lstm_parity.json"

type lstmGoldenTensor struct {
	Name  string    `json:"name"`
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

type lstmGolden struct {
	Config struct {
		Input, Hidden, Layers int
		Bidirectional         bool
	} `json:"config"`
	Lengths []int              `json:"lengths"`
	X       lstmGoldenTensor   `json:"x"` // post-padded
	ROut    lstmGoldenTensor   `json:"r_out"`
	RH      lstmGoldenTensor   `json:"r_h"`
	RC      lstmGoldenTensor   `json:"r_c"`
	Params  []lstmGoldenTensor `json:"params"`
	Out     lstmGoldenTensor   `json:"out"`
	HN      lstmGoldenTensor   `json:"h_n"`
	CN      lstmGoldenTensor   `json:"c_n"`
	Loss    float64            `json:"loss"`
	Grads   []lstmGoldenTensor `json:"grads"` // x, then the parameters in state_dict order
}

func loadLSTMGolden(t *testing.T) *lstmGolden {
	t.Helper()
	raw, err := os.ReadFile(lstmParityGolden)
	if err != nil {
		t.Fatal(err)
	}
	var g lstmGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("%s: %v", lstmParityGolden, err)
	}
	if len(g.Lengths) == 0 || len(g.X.Shape) != 3 || len(g.Grads) != len(g.Params)+1 {
		t.Fatalf("%s: %d lengths, x %v, %d gradients for %d parameters: regenerate it", lstmParityGolden, len(g.Lengths), g.X.Shape, len(g.Grads), len(g.Params))
	}
	return &g
}

// lstmShift moves each sequence's first length rows of a post-padded
// [N, T, W] tensor to the end of its T rows, giving the 'pre'-padded
// layout (or back, with toPre false).
func lstmShift(v []float64, lengths []int, steps, width int, toPre bool) []float64 {
	out := make([]float64, len(v))
	for n, l := range lengths {
		for k := 0; k < l; k++ {
			post, pre := n*steps+k, n*steps+steps-l+k
			src, dst := post, pre
			if !toPre {
				src, dst = pre, post
			}
			copy(out[dst*width:(dst+1)*width], v[src*width:(src+1)*width])
		}
	}
	return out
}

// lstmStateLayout turns PyTorch's h_n [layers·D, N, H] into tapeml's
// per-layer [N, D·H] (forward direction's H values first).
func lstmStateLayout(v []float64, layers, dirs, n, h int) [][]float64 {
	out := make([][]float64, layers)
	for l := range out {
		out[l] = make([]float64, n*dirs*h)
		for d := 0; d < dirs; d++ {
			for b := 0; b < n; b++ {
				copy(out[l][(b*dirs+d)*h:][:h], v[((l*dirs+d)*n+b)*h:][:h])
			}
		}
	}
	return out
}

// TestLSTMParityWithPyTorch checks the op against torch.nn.LSTM over
// pack_padded_sequence: outputs, final hidden and cell states, the loss and
// the gradient of the input and of every weight, with the batch padded
// after the tokens as PyTorch has it and before them as tapeml does.
func TestLSTMParityWithPyTorch(t *testing.T) {
	g := loadLSTMGolden(t)
	c := g.Config
	n, steps, in := g.X.Shape[0], g.X.Shape[1], g.X.Shape[2]
	dirs := 1
	if c.Bidirectional {
		dirs = 2
	}
	width := dirs * c.Hidden
	hWant := lstmStateLayout(g.HN.Data, c.Layers, dirs, n, c.Hidden)
	cWant := lstmStateLayout(g.CN.Data, c.Layers, dirs, n, c.Hidden)
	rH := lstmStateLayout(g.RH.Data, c.Layers, dirs, n, c.Hidden)
	rC := lstmStateLayout(g.RC.Data, c.Layers, dirs, n, c.Hidden)
	for _, pre := range []bool{false, true} {
		t.Run(fmt.Sprintf("pre=%v", pre), func(t *testing.T) {
			layout := func(v []float64, w int) []float64 {
				if pre {
					return lstmShift(v, g.Lengths, steps, w, true)
				}
				return slices.Clone(v)
			}
			ps := NewParams(tensor.Float64, 1)
			b := NewBuilder(ps, Train, nil)
			x := constInput(b, "x", layout(g.X.Data, in), n, steps, in)
			mask := constInput(b, "mask", lstmMask(g.Lengths, steps, pre), n, steps)
			o := LSTM(b, "rnn", x, mask, LSTMConfig{Hidden: c.Hidden, Layers: c.Layers, Bidirectional: c.Bidirectional})
			if len(ps.List()) != len(g.Params) {
				t.Fatalf("%d parameters, PyTorch has %d", len(ps.List()), len(g.Params))
			}
			for i, p := range ps.List() {
				if p.Name != g.Params[i].Name || !slices.Equal(p.Shape(), g.Params[i].Shape) {
					t.Fatalf("parameter %d is %s %v, PyTorch's is %s %v", i, p.Name, p.Shape(), g.Params[i].Name, g.Params[i].Shape)
				}
				copy(p.Value.Float64s(), g.Params[i].Data)
			}
			loss := G.Must(G.Sum(G.Must(G.HadamardProd(o.Sequence(), constInput(b, "Rout", layout(g.ROut.Data, width), n, steps, width)))))
			var show []*G.Node
			for l := 0; l < c.Layers; l++ {
				for _, s := range []struct {
					node *G.Node
					r    []float64
				}{{o.Hidden(l), rH[l]}, {o.Cell(l), rC[l]}} {
					loss = G.Must(G.Add(loss, G.Must(G.Sum(G.Must(G.HadamardProd(s.node, constInput(b, fmt.Sprintf("R%d.%d", l, len(show)), s.r, n, width)))))))
					show = append(show, s.node)
				}
			}
			vals := lstmRunValues(t, b, loss, append([]*G.Node{o.Sequence()}, show...), append([]*G.Node{x}, lstmParamNodes(b)...))

			type check struct {
				what      string
				got, want []float64
			}
			checks := []check{
				{"loss", vals[0], []float64{g.Loss}},
				{"outputs", vals[1], layout(g.Out.Data, width)},
			}
			for l := 0; l < c.Layers; l++ {
				checks = append(checks,
					check{fmt.Sprintf("final hidden state, layer %d", l), vals[2+2*l], hWant[l]},
					check{fmt.Sprintf("final cell state, layer %d", l), vals[3+2*l], cWant[l]})
			}
			grads := vals[2+len(show):]
			checks = append(checks, check{"gradient of x", grads[0], layout(g.Grads[0].Data, in)})
			for i, p := range ps.List() {
				checks = append(checks, check{"gradient of " + p.Name, grads[1+i], g.Grads[1+i].Data})
			}
			worst, worstWhat := 0.0, ""
			for _, ch := range checks {
				if err := lstmClose(ch.got, ch.want, 1e-9); err != nil {
					t.Errorf("%s: %v", ch.what, err)
				}
				for i := range ch.want {
					if e := math.Abs(ch.got[i]-ch.want[i]) / math.Max(1, math.Abs(ch.want[i])); e > worst {
						worst, worstWhat = e, ch.what
					}
				}
			}
			t.Logf("worst error %.3g (%s)", worst, worstWhat)
		})
	}
}
