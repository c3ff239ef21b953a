package quantize

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/export"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/internal/core"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/safetensors"
)

// The choice follows from the timings alone: fake times, no clock.
func TestChoose(t *testing.T) {
	// rounds × batches of seconds: the model with every layer int8 takes
	// 10 ms a batch, disturbed in some rounds.
	base := [][]float64{{0.010, 0.012}, {0.030, 0.010}, {0.011, 0.050}}
	scaled := func(f float64, noise ...float64) [][]float64 {
		out := make([][]float64, len(base))
		for r, row := range base {
			out[r] = make([]float64, len(row))
			for b, v := range row {
				out[r][b] = v * f
				if r < len(noise) {
					out[r][b] += noise[r] // another process's work
				}
			}
		}
		return out
	}
	// Faster by 20% in the even rounds, not at all in the odd one: 10%
	// over all, but one half of the rounds does not find it.
	halfOnly := scaled(1.2)
	halfOnly[1] = slices.Clone(base[1])
	ls := []Layer{{Name: "conv"}, {Name: "fc.0"}, {Name: "fc.3"}, {Name: "fc.6"}, {Name: "untimed"}, {Name: "half"}}
	ts := []layerTimes{
		{float32: scaled(0.8, 0, 0, 0.05), int8: base}, // float32 faster, one round disturbed
		{float32: scaled(1.5, 0, 0, 0.5), int8: base},  // int8 much faster, one round disturbed
		{float32: scaled(1.029), int8: base},           // faster, but within the margin
		{float32: scaled(1.031), int8: base},           // just beyond it
		{},
		{float32: halfOnly, int8: base},
	}
	choose(ls, ts, MinGain)
	// Disturbed in every round, a model cannot be told undisturbed.
	if g := undisturbed(scaled(1, 0.01, 0.01, 0.01)); math.Abs(g-0.04) > 1e-12 {
		t.Errorf("undisturbed(every round +10 ms) = %v, want 0.04", g)
	}
	want := []bool{false, true, false, true, true, false}
	for i, l := range ls {
		if l.Kept != want[i] {
			t.Errorf("%s: kept int8 %v, want %v (gain %+.4f)", l.Name, l.Kept, want[i], l.Gain)
		}
	}
	// fc.0: undisturbed float32 = 1.5 × (0.010 + 0.010) per two batches.
	if l := ls[1]; math.Abs(l.Gain-0.5) > 1e-9 || l.Int8.Microseconds() != 10000 || l.Float32.Microseconds() != 15000 {
		t.Errorf("fc.0: gain %v, float32 %v, int8 %v; want 0.5, 15ms, 10ms", l.Gain, l.Float32, l.Int8)
	}
	if l := ls[0]; math.Abs(l.Gain-(-0.2)) > 1e-9 {
		t.Errorf("conv: gain %v, want −0.2", l.Gain)
	}
	if g := ls[5].Gain; math.Abs(g-0.1) > 1e-9 {
		t.Errorf("half: gain %v, want 0.1", g)
	}
	if ls[4].Float32 != 0 || ls[4].Gain != 0 {
		t.Errorf("untimed layer got timings %+v", ls[4])
	}

	// The margin: MinGain, or twice the repeat's difference.
	if n, m := noiseMargin(base, base); n != 0 || m != MinGain {
		t.Errorf("noiseMargin(same) = %v, %v", n, m)
	}
	if n, m := noiseMargin(scaled(1.05), base); math.Abs(n-0.05) > 1e-9 || math.Abs(m-0.1) > 1e-9 {
		t.Errorf("noiseMargin(5%% apart) = %v, %v, want 0.05, 0.1", n, m)
	}
	if _, m := noiseMargin(nil, nil); m != MinGain {
		t.Errorf("noiseMargin(nothing) margin %v", m)
	}
}

// units groups the weights a kernel runs in int8 together, in the
// model's order, and leaves out tables, biases and normalization.
func TestUnits(t *testing.T) {
	specs := []graph.ParamSpec{
		{Name: "embedding.weight", Role: graph.RoleEmbedding},
		{Name: "rnn.weight_ih_l0", Role: graph.RoleLSTM, Unit: "rnn_l0"},
		{Name: "rnn.weight_hh_l0", Role: graph.RoleLSTM, Unit: "rnn_l0"},
		{Name: "rnn.bias_ih_l0"},
		{Name: "rnn.weight_ih_l0_reverse", Role: graph.RoleLSTM, Unit: "rnn_l0_reverse"},
		{Name: "rnn.weight_hh_l0_reverse", Role: graph.RoleLSTM, Unit: "rnn_l0_reverse"},
		{Name: "convs.0.weight", Role: graph.RoleConv},
		{Name: "fc.weight", Role: graph.RoleLinear},
		{Name: "fc.bias"},
	}
	got := units(specs)
	want := []Layer{
		{Name: "rnn_l0", Role: "lstm", Weights: []string{"rnn.weight_ih_l0", "rnn.weight_hh_l0"}},
		{Name: "rnn_l0_reverse", Role: "lstm", Weights: []string{"rnn.weight_ih_l0_reverse", "rnn.weight_hh_l0_reverse"}},
		{Name: "convs.0", Role: "conv", Weights: []string{"convs.0.weight"}},
		{Name: "fc", Role: "linear", Weights: []string{"fc.weight"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("units:\n got %+v\nwant %+v", got, want)
	}
}

// The models mark the weights their int8 kernels need together.
func TestUnitsOfModels(t *testing.T) {
	c, err := checkpoint.Load("../testdata/legacy/lstm")
	if err != nil {
		t.Fatal(err)
	}
	l, err := kinds.Decode(c)
	if err != nil {
		t.Fatal(err)
	}
	specs, err := graph.ParamShapes(l.Network.Build)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range units(specs) {
		names = append(names, u.Name+"="+strings.Join(u.Weights, ","))
	}
	for _, want := range []string{"rnn_l0=rnn.weight_ih_l0,rnn.weight_hh_l0", "rnn_l0_reverse=rnn.weight_ih_l0_reverse,rnn.weight_hh_l0_reverse"} {
		if !slices.Contains(names, want) {
			t.Errorf("units %v: no %s", names, want)
		}
	}
}

// A mixed int8 checkpoint — some layers int8, the others kept float32 —
// saves, loads and serves each layer as recorded, through tapeml.Load and
// through its safetensors export; with every layer float32 it serves
// exactly as the float32 model with the same (int8-stored) table.
func TestMixedCheckpointRoundTrip(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	c, err := checkpoint.Load("../testdata/legacy/lstm")
	if err != nil {
		t.Fatal(err)
	}
	l, err := kinds.Decode(c)
	if err != nil {
		t.Fatal(err)
	}
	specs, err := graph.ParamShapes(l.Network.Build)
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]graph.Role{}
	for _, p := range specs {
		roles[p.Name] = p.Role
	}
	forms := map[string]*graph.QuantWeight{}
	for _, p := range l.Params.List() {
		if r := roles[p.Name]; r != graph.RoleNone {
			forms[p.Name] = graph.QuantizeRows(p.Value.Float32s(), p.Shape())
		}
	}
	layers := units(specs)
	if len(layers) < 2 {
		t.Fatalf("%d layers", len(layers))
	}
	texts := []string{"free money now", "meeting at noon tomorrow", "", "click here to win a prize"}
	save := func(name string, int8 []bool) (string, []tapeml.Prediction, *kinds.Loaded) {
		t.Helper()
		c8, quantized, err := assemble(c, l.Params, roles, forms, nil, layers, int8, 0)
		if err != nil {
			t.Fatal(err)
		}
		c8.Dir = ""
		dir := filepath.Join(tmp, name)
		if err := checkpoint.Save(dir, c8); err != nil {
			t.Fatal(err)
		}
		m, err := tapeml.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		p, err := m.ClassifyTexts(ctx, texts)
		if err != nil {
			t.Fatal(err)
		}
		lo := core.Unwrap(m).Loaded
		for i, ly := range layers {
			for _, w := range ly.Weights {
				if got := lo.Params.Quantized(w) != nil; got != int8[i] {
					t.Errorf("%s: %s has an int8 form: %v, want %v", name, w, got, int8[i])
				}
				_, listed := quantized[w]
				_, kept := lo.Quantization.Float32[w]
				if listed != int8[i] || kept == int8[i] {
					t.Errorf("%s: %s listed int8 %v, float32 %v; want int8 %v", name, w, listed, kept, int8[i])
				}
				if !int8[i] && !slices.Equal(lo.Params.Get(w).Value.Float32s(), l.Params.Get(w).Value.Float32s()) {
					t.Errorf("%s: float32 layer %s does not hold the source's weights", name, w)
				}
			}
		}
		return dir, p, lo
	}
	mixed := make([]bool, len(layers))
	mixed[0] = true // the first LSTM direction int8, the rest float32
	dir, pm, lo := save("mixed", mixed)
	if _, ok := lo.Quantization.Tensors["embedding.weight"]; !ok {
		t.Errorf("the table is not int8: %v", lo.Quantization.Tensors)
	}

	// Its safetensors export loads as the same mixed model.
	file := filepath.Join(tmp, "mixed.safetensors")
	craw, err := checkpoint.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := export.WriteFile(craw, export.Safetensors, file); err != nil {
		t.Fatal(err)
	}
	me, err := tapeml.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	pe, err := me.ClassifyTexts(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(pm, pe) {
		t.Errorf("exported mixed model answers %v, the checkpoint %v", pe, pm)
	}
	if q := core.Unwrap(me).Loaded.Quantization; !reflect.DeepEqual(q.Float32, lo.Quantization.Float32) {
		t.Errorf("export lost the float32 layers: %v, want %v", q.Float32, lo.Quantization.Float32)
	}

	// Every layer float32: the float32 model with the dequantized table.
	_, pf, _ := save("float32", make([]bool, len(layers)))
	ref := *c
	ref.Dir = ""
	ref.Weights = slices.Clone(c.Weights)
	for i, w := range ref.Weights {
		if w.Name == "embedding.weight" {
			v := make([]float32, len(forms[w.Name].Q))
			forms[w.Name].Dequantize(v)
			ref.Weights[i] = safetensors.F32(w.Name, w.Shape, v)
		}
	}
	refDir := filepath.Join(tmp, "ref")
	if err := checkpoint.Save(refDir, &ref); err != nil {
		t.Fatal(err)
	}
	mr, err := tapeml.Load(refDir)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := mr.ClassifyTexts(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(pf, pr) {
		t.Errorf("all-float32 int8 checkpoint answers %v, the float32 model %v", pf, pr)
	}

	// Every layer int8: no float32 key, as checkpoints written before the
	// choice (which still load).
	all := make([]bool, len(layers))
	for i := range all {
		all[i] = true
	}
	dirAll, _, _ := save("int8", all)
	call, err := checkpoint.Load(dirAll)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(call.Extra[checkpoint.QuantizationFile], &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["float32"]; ok {
		t.Errorf("all-int8 checkpoint lists float32 layers: %s", call.Extra[checkpoint.QuantizationFile])
	}
}
