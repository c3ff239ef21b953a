package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// int8Net builds, in mode, one of each layer that has an int8 serving
// kernel, on fixed inputs, and returns the outputs after one run.
func int8Net(t *testing.T, ps *Params, mode Mode) [][]float32 {
	t.Helper()
	return int8NetDims(t, ps, mode, int8Default)
}

// int8Dims are the sizes of int8NetDims's layers: the Linear's batch,
// inputs and outputs; the LSTM's batch, steps, inputs and hidden size; the
// convolution block's image side, input and output channels; the text
// layers' batch and length.
type int8Dims struct {
	batch, in, out            int
	seqN, seqT, seqIn, hidden int
	img, ch, convOut          int
	textN, maxLen             int
}

// int8Default: 40 outputs are a full 32-column tile and a partial one.
var int8Default = int8Dims{batch: 9, in: 37, out: 40, seqN: 4, seqT: 6, seqIn: 3, hidden: 5, img: 8, ch: 2, convOut: 5, textN: 3, maxLen: 12}

func int8NetDims(t *testing.T, ps *Params, mode Mode, d int8Dims) [][]float32 {
	t.Helper()
	b := NewBuilder(ps, mode, nil)
	rng := rand.New(rand.NewPCG(5, 6))
	input := func(name string, shape ...int) *G.Node {
		n := 1
		for _, d := range shape {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return G.NewTensor(b.G, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))))
	}
	ids := make([]float32, d.textN*d.maxLen)
	for i := range ids {
		ids[i] = float32(rng.IntN(20))
	}
	idNode := G.NewTensor(b.G, tensor.Float32, 2, G.WithShape(d.textN, d.maxLen), G.WithName("ids"), G.WithValue(tensor.New(tensor.WithShape(d.textN, d.maxLen), tensor.WithBacking(ids))))
	lin := Linear(b, "fc", input("x", d.batch, d.in), d.out, true)
	rnn := LSTM(b, "rnn", input("seq", d.seqN, d.seqT, d.seqIn), nil, LSTMConfig{Hidden: d.hidden, Layers: 2, Bidirectional: true})
	conv := ConvBlock(b, "conv", "bn", input("image", 3, d.ch, d.img, d.img), Conv2DConfig{Out: d.convOut, Kernel: 3, Padding: 1, Bias: true}, BatchNormConfig{}, 2)
	text := EmbeddingConv1DPool(b, "emb", "tconv", idNode, 20, 6, Conv1DConfig{Out: 7, Kernel: 3, Bias: true}, 2)
	// Kim's front end on padded texts (pre, post, none, …, then empty).
	kn := d.textN + 1
	kids := make([]float32, kn*d.maxLen)
	for i := range kids {
		if r, c := i/d.maxLen, i%d.maxLen; r < kn-1 && (r%3 == 0 && c >= d.maxLen/2 || r%3 == 1 && c < 3*d.maxLen/4 || r%3 == 2) {
			kids[i] = float32(1 + rng.IntN(19))
		}
	}
	kidNode := G.NewTensor(b.G, tensor.Float32, 2, G.WithShape(kn, d.maxLen), G.WithName("kids"), G.WithValue(tensor.New(tensor.WithShape(kn, d.maxLen), tensor.WithBacking(kids))))
	kim := EmbeddingConvMax(b, "kemb", []string{"kconv.0", "kconv.1"}, kidNode, 20, 6, 7, []int{2, 4})
	nodes := []*G.Node{lin, rnn.Hidden(1), conv, text, kim}
	if err := G.NewTapeMachine(b.G).RunAll(); err != nil {
		t.Fatal(err)
	}
	var out [][]float32
	for _, n := range nodes {
		out = append(out, slices.Clone(n.Value().(*tensor.Dense).Float32s()))
	}
	return out
}

// TestInt8ServingKernels checks the int8 serving graph against the float32
// one (within quantization error) and every int8 path against the generic
// one, bit for bit: the integer products are equal, and the float work
// around them is the same Go code. Besides the default sizes, layers with
// sizes from the kernel tests' sizes list: one of everything (three inputs
// where one would quantize exactly), and odd widths, images and lengths
// around the tiles and vector widths. There are no guard regions here: each
// layer writes an output tensor of its own, which the graph allocates.
func TestInt8ServingKernels(t *testing.T) {
	for _, d := range []int8Dims{
		int8Default,
		{batch: 1, in: 3, out: 1, seqN: 1, seqT: 1, seqIn: 3, hidden: 2, img: 2, ch: 1, convOut: 1, textN: 1, maxLen: 5},
		{batch: 17, in: 65, out: 33, seqN: 3, seqT: 3, seqIn: 17, hidden: 9, img: 9, ch: 3, convOut: 17, textN: 5, maxLen: 15},
		{batch: 33, in: 16, out: 65, seqN: 2, seqT: 2, seqIn: 31, hidden: 16, img: 7, ch: 1, convOut: 33, textN: 2, maxLen: 33},
	} {
		t.Run(fmt.Sprintf("%+v", d), func(t *testing.T) { checkInt8Serving(t, d) })
	}
}

func checkInt8Serving(t *testing.T, d int8Dims) {
	int8Net := func(t *testing.T, ps *Params, mode Mode) [][]float32 { return int8NetDims(t, ps, mode, d) }
	ps := NewParams(tensor.Float32, 3)
	int8Net(t, ps, Eval) // materialize
	// Running statistics away from the identity, so the folding matters.
	for i, v := range ps.Get("bn.running_var").Value.Float32s() {
		ps.Get("bn.running_var").Value.Float32s()[i] = v + 0.5*float32(i)
		ps.Get("bn.running_mean").Value.Float32s()[i] = 0.1 * float32(i)
	}
	ref := int8Net(t, ps, Eval)
	absMax := func(v []float32) float32 {
		var m float32
		for _, x := range v {
			m = max(m, x, -x)
		}
		return m
	}
	var got [][][]float32
	for _, arch := range kern.QArches() {
		restore := kern.SetQGemmArch(arch)
		qs := NewParams(tensor.Float32, 3)
		int8Net(t, qs, Eval) // materialize
		for _, p := range ps.List() {
			copy(qs.Get(p.Name).Value.Float32s(), p.Value.Float32s())
		}
		for _, name := range []string{"fc.weight", "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.weight_ih_l0_reverse", "rnn.weight_hh_l0_reverse",
			"rnn.weight_ih_l1", "rnn.weight_hh_l1", "rnn.weight_ih_l1_reverse", "rnn.weight_hh_l1_reverse", "conv.weight", "tconv.weight", "kconv.0.weight", "kconv.1.weight"} {
			p := qs.Get(name)
			if p.Role == RoleNone {
				t.Fatalf("%s has no role", name)
			}
			q := QuantizeRows(p.Value.Float32s(), p.Shape())
			switch name {
			case "conv.weight":
				q.InputScale = 4.5 / 127 // the inputs are N(0, 1)
			case "tconv.weight":
				q.InputScale = absMax(qs.Get("emb.weight").Value.Float32s()) / 127
			case "kconv.0.weight", "kconv.1.weight":
				q.InputScale = absMax(qs.Get("kemb.weight").Value.Float32s()) / 127
			}
			qs.SetQuantized(name, q)
		}
		out := int8Net(t, qs, Infer)
		restore()
		for i := range out {
			if len(out[i]) != len(ref[i]) {
				t.Fatalf("%s: output %d has %d values, float32 %d", arch.Name(), i, len(out[i]), len(ref[i]))
			}
			if slices.Equal(out[i], ref[i]) {
				t.Fatalf("%s: output %d equals the float32 graph's: no int8 kernel ran", arch.Name(), i)
			}
			m := absMax(ref[i])
			for j := range out[i] {
				if d := math.Abs(float64(out[i][j] - ref[i][j])); d > 0.03*float64(m) {
					t.Fatalf("%s: output %d[%d] = %v, float32 %v (|Δ| %.3g > 3%% of %v)", arch.Name(), i, j, out[i][j], ref[i][j], d, m)
				}
			}
		}
		got = append(got, out)
	}
	for a := 1; a < len(got); a++ {
		for i := range got[a] {
			if !slices.Equal(got[a][i], got[0][i]) {
				t.Errorf("%s: output %d differs from the generic int8 path's", kern.QArches()[a].Name(), i)
			}
		}
	}
}

// TestCalibrationRecordsConvInputs checks that a calibrating serving graph
// records the range of each convolution's input.
func TestCalibrationRecordsConvInputs(t *testing.T) {
	if !kern.Packed() {
		t.Skip("the fused TextCNN kernel records its input only on the SIMD path")
	}
	ps := NewParams(tensor.Float32, 3)
	int8Net(t, ps, Eval)
	ps.Calibrate()
	int8Net(t, ps, Infer)
	c := ps.Calibration()
	for _, name := range []string{"conv.weight", "tconv.weight", "kconv.0.weight", "kconv.1.weight"} {
		if !(c[name] > 0) {
			t.Errorf("calibration of %s: %v", name, c[name])
		}
	}
	if m := c["tconv.weight"]; m > float64(slices.Max(ps.Get("emb.weight").Value.Float32s()))+1e-6 && m > -float64(slices.Min(ps.Get("emb.weight").Value.Float32s()))+1e-6 {
		t.Errorf("recorded %v, beyond the embedding table's range", m)
	}
}

// qLinear — quantizeEncodeRows, the int8 product and DequantTile as the
// int8 Linear runs them — at every level and with every int8 arch, on
// every pair of sides in the kernel tests' sizes list and depths around
// the groups, against the float64 sum of the same integers scaled back
// (y_ij = Σ qx·qw · sx_i · sw_j + b_j, or + y_ij when accumulating), with
// odd leading dimensions and guards around y and in its gaps.
func TestQLinearSizes(t *testing.T) {
	const gl = 16
	const guard = float32(-1234.5678)
	sizes := []int{0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 65}
	rng := rand.New(rand.NewPCG(65, 66))
	count := 0
	for l := kern.Generic; l <= kern.Supported(); l++ {
		restoreLevel := kern.Set(l)
		for _, arch := range kern.QArches() {
			restoreArch := kern.SetQGemmArch(arch)
			for _, m := range sizes {
				for _, n := range sizes {
					if n == 0 {
						continue // no layer has 0 outputs
					}
					for _, k := range []int{1, 3, 4, 16, 17, 65} {
						count++
						accumulate := count%2 == 0
						lda, ldy := k+1+count%3, n+1+count%2
						x := randn32(rng, m*lda)
						w := QuantizeRows(randn32(rng, n*k), []int{n, k})
						bias := randn32(rng, n)
						size := 0
						if m > 0 {
							size = (m-1)*ldy + n
						}
						all := make([]float32, size+2*gl)
						for i := range all {
							all[i] = guard
						}
						y := all[gl : gl+size]
						for i := range y {
							if i%ldy < n {
								y[i] = float32(rng.NormFloat64())
							}
						}
						y0 := slices.Clone(y)
						var r qRows
						qLinear(1+count%2, x, m, k, lda, w, y, ldy, accumulate, bias, &r)
						qx, sx := make([]int8, m*k), make([]float32, m)
						quantizeRowsDynamic(x, m, k, lda, qx, sx)
						for i, g := range all {
							c := i - gl
							if c < 0 || c >= size || c%ldy >= n {
								if math.Float32bits(g) != math.Float32bits(guard) {
									t.Fatalf("%s %s %dx%dx%d: wrote %v at %d outside y", l, arch.Name(), m, n, k, g, c)
								}
								continue
							}
							row, col := c/ldy, c%ldy
							var acc int64
							for p := 0; p < k; p++ {
								acc += int64(qx[row*k+p]) * int64(w.Q[col*k+p])
							}
							prod := float64(acc) * float64(sx[row]) * float64(w.Scale[col])
							want, mag := prod+float64(bias[col]), math.Abs(prod)+math.Abs(float64(bias[col]))
							if accumulate {
								want, mag = prod+float64(y0[c]), math.Abs(prod)+math.Abs(float64(y0[c]))
							}
							if d := math.Abs(float64(g) - want); !(d <= 5e-7*mag+1e-30) {
								t.Fatalf("%s %s %dx%dx%d accumulate %v: y[%d][%d] = %v, want %v", l, arch.Name(), m, n, k, accumulate, row, col, g, want)
							}
						}
					}
				}
			}
			restoreArch()
		}
		restoreLevel()
	}
}

func randn32(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}
