package onnx_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/models/convnet"
	"github.com/tapeml/tapeml/models/lstm"
	"github.com/tapeml/tapeml/models/mf"
	"github.com/tapeml/tapeml/models/textcnn"
	"github.com/tapeml/tapeml/onnx"
	"github.com/tapeml/tapeml/recsys"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/train"
)

// modelConfigs is one configuration of each model kind.
type modelConfigs struct {
	TextCNN       textcnn.Config
	LSTM, LSTMUni lstm.Config
	ConvNet       convnet.Config
	MF            mf.Config
}

// small is what the unit tests build.
var (
	small = modelConfigs{
		TextCNN: textcnn.Config{NumWords: 50, EmbedDim: 8, Filters: 6, Kernel: 3, Pool: 2, MaxLen: 20},
		LSTM:    lstm.Config{NumWords: 30, EmbedDim: 6, Hidden: 5, Layers: 2, Bidirectional: true, Dropout: 0.5, MaxLen: 12},
		LSTMUni: lstm.Config{NumWords: 30, EmbedDim: 6, Hidden: 4, Layers: 1, MaxLen: 9},
		ConvNet: convnet.Config{Channels: 3, Height: 8, Width: 6, Classes: 4, Dropout: 0.5},
		MF:      mf.Config{Users: 7, Items: 9, Factors: 4, Scale: recsys.Scale{Min: 1, Max: 5}}.WithDefaults(),
	}
)

// tapemlModel is a tapeml model together with its parameter store.
type tapemlModel struct {
	params *graph.Params
	prog   *graph.Program
}

// newTapeml creates the model's parameters (tapeml's own initialization)
// as train.New does.
func newTapeml(t testing.TB, net train.Model, seed uint64) *tapemlModel {
	t.Helper()
	params := graph.NewParams(tensor.Float32, seed)
	prog := graph.NewProgram(net.Build, net.Loss, params, nil)
	if err := prog.Materialize(); err != nil {
		t.Fatal(err)
	}
	return &tapemlModel{params: params, prog: prog}
}

// exporter is one model kind: how to make it in tapeml and export it.
type exporter struct {
	name   string
	kind   string
	config any
	tapeml func(t testing.TB, seed uint64) *tapemlModel
	export func(ws []safetensors.Tensor) (*onnx.Model, error)
}

func must[M any](m M, err error) M {
	if err != nil {
		panic(err)
	}
	return m
}

func exporters(c modelConfigs) []exporter {
	return []exporter{
		{
			name: "textcnn", kind: "textcnn", config: c.TextCNN,
			tapeml: func(t testing.TB, seed uint64) *tapemlModel {
				return newTapeml(t, must(textcnn.New(c.TextCNN)), seed)
			},
			export: func(ws []safetensors.Tensor) (*onnx.Model, error) { return c.TextCNN.ONNX(ws) },
		},
		{
			name: "lstm", kind: "lstm", config: c.LSTM,
			tapeml: func(t testing.TB, seed uint64) *tapemlModel { return newTapeml(t, must(lstm.New(c.LSTM)), seed) },
			export: func(ws []safetensors.Tensor) (*onnx.Model, error) { return c.LSTM.ONNX(ws) },
		},
		{
			name: "lstm_unidirectional", kind: "lstm", config: c.LSTMUni,
			tapeml: func(t testing.TB, seed uint64) *tapemlModel {
				return newTapeml(t, must(lstm.New(c.LSTMUni)), seed)
			},
			export: func(ws []safetensors.Tensor) (*onnx.Model, error) { return c.LSTMUni.ONNX(ws) },
		},
		{
			name: "convnet", kind: "convnet", config: c.ConvNet,
			tapeml: func(t testing.TB, seed uint64) *tapemlModel {
				return newTapeml(t, must(convnet.New(c.ConvNet)), seed)
			},
			export: func(ws []safetensors.Tensor) (*onnx.Model, error) { return c.ConvNet.ONNX(ws) },
		},
		{
			name: "mf", kind: "recsys-mf", config: c.MF,
			tapeml: func(t testing.TB, seed uint64) *tapemlModel { return newTapeml(t, must(mf.New(c.MF)), seed) },
			export: func(ws []safetensors.Tensor) (*onnx.Model, error) { return c.MF.ONNX(ws) },
		},
	}
}

// exportCase is an exporter of a small model with the graph's expected
// signature and some initializers' dims.
type exportCase struct {
	exporter
	inputs, outputs []onnx.ValueInfo
	inits           map[string][]int64
}

func exportCases() []exportCase {
	batch := onnx.Dim{Param: "batch"}
	binary := []onnx.ValueInfo{{Name: "logits", ElemType: onnx.Float, Shape: []onnx.Dim{batch, {Value: 1}}}, {Name: "probs", ElemType: onnx.Float, Shape: []onnx.Dim{batch, {Value: 1}}}}
	want := map[string]exportCase{
		"textcnn": {
			inputs:  []onnx.ValueInfo{{Name: "ids", ElemType: onnx.Int64, Shape: []onnx.Dim{batch, {Value: 20}}}},
			outputs: binary,
			inits: map[string][]int64{"embedding.weight": {50, 8}, "conv.weight": {6, 8, 3}, "conv.bias": {6},
				"fc.weight": {1, 6 * 9}, "fc.bias": {1}},
		},
		"lstm": {
			inputs:  []onnx.ValueInfo{{Name: "ids", ElemType: onnx.Int64, Shape: []onnx.Dim{batch, {Value: 12}}}},
			outputs: binary,
			inits: map[string][]int64{"embedding.weight": {30, 6}, "rnn.W_l0": {2, 20, 6}, "rnn.R_l0": {2, 20, 5}, "rnn.B_l0": {2, 40},
				"rnn.W_l1": {2, 20, 10}, "rnn.R_l1": {2, 20, 5}, "rnn.B_l1": {2, 40}, "fc.weight": {1, 10}, "fc.bias": {1}},
		},
		"lstm_unidirectional": {
			inputs:  []onnx.ValueInfo{{Name: "ids", ElemType: onnx.Int64, Shape: []onnx.Dim{batch, {Value: 9}}}},
			outputs: binary,
			inits:   map[string][]int64{"rnn.W_l0": {1, 16, 6}, "rnn.R_l0": {1, 16, 4}, "rnn.B_l0": {1, 32}, "fc.weight": {1, 4}},
		},
		"convnet": {
			inputs:  []onnx.ValueInfo{{Name: "images", ElemType: onnx.Float, Shape: []onnx.Dim{batch, {Value: 3}, {Value: 8}, {Value: 6}}}},
			outputs: []onnx.ValueInfo{{Name: "logits", ElemType: onnx.Float, Shape: []onnx.Dim{batch, {Value: 4}}}, {Name: "probs", ElemType: onnx.Float, Shape: []onnx.Dim{batch, {Value: 4}}}},
			inits: map[string][]int64{"layer1.0.weight": {64, 3, 3, 3}, "layer1.1.running_var": {64}, "layer2.0.weight": {128, 64, 3, 3},
				"layer2.1.running_mean": {128}, "fc.0.weight": {1024, 256}, "fc.3.weight": {512, 1024}, "fc.6.weight": {4, 512}, "fc.6.bias": {4}},
		},
		"mf": {
			inputs:  []onnx.ValueInfo{{Name: "user", ElemType: onnx.Int64, Shape: []onnx.Dim{batch}}, {Name: "item", ElemType: onnx.Int64, Shape: []onnx.Dim{batch}}},
			outputs: []onnx.ValueInfo{{Name: "rating", ElemType: onnx.Float, Shape: []onnx.Dim{batch}}},
			inits: map[string][]int64{"user_factors.weight": {7, 4}, "item_factors.weight": {9, 4}, "user_bias.weight": {7, 1},
				"item_bias.weight": {9, 1}, "global_bias": {1}, "scale_min": {}, "scale_max": {}},
		},
	}
	var cases []exportCase
	for _, e := range exporters(small) {
		c := want[e.name]
		c.exporter = e
		cases = append(cases, c)
	}
	return cases
}

// opset13 lists the operators the builders may use, all in the default
// domain at opset 13.
var opset13 = map[string]bool{
	"Add": true, "BatchNormalization": true, "Cast": true, "Clip": true, "Conv": true, "Equal": true,
	"Flatten": true, "Gather": true, "GatherElements": true, "Gemm": true, "LSTM": true, "Max": true,
	"MaxPool": true, "Mul": true, "Not": true, "ReduceSum": true, "Relu": true, "Reshape": true,
	"Sigmoid": true, "Softmax": true, "Squeeze": true, "TopK": true, "Transpose": true, "Unsqueeze": true, "Where": true,
}

// checkWellFormed checks what the ONNX checker would: unique names, every
// node input defined before it is used, every graph output produced, known
// operators.
func checkWellFormed(t *testing.T, g *onnx.Graph) {
	t.Helper()
	defined := map[string]bool{}
	define := func(name, what string) {
		if defined[name] {
			t.Errorf("%s %q is defined twice", what, name)
		}
		defined[name] = true
	}
	for _, v := range g.Inputs {
		define(v.Name, "input")
	}
	for _, init := range g.Initializers {
		define(init.Name, "initializer")
	}
	for _, n := range g.Nodes {
		if !opset13[n.OpType] || n.Domain != "" {
			t.Errorf("node %q: operator %q (domain %q) is not in the expected set", n.Name, n.OpType, n.Domain)
		}
		for _, in := range n.Inputs {
			if in != "" && !defined[in] {
				t.Errorf("node %q (%s) reads %q before it is defined", n.Name, n.OpType, in)
			}
		}
		for _, out := range n.Outputs {
			if out != "" {
				define(out, "node output")
			}
		}
	}
	for _, v := range g.Outputs {
		if !defined[v.Name] {
			t.Errorf("output %q is not produced by any node", v.Name)
		}
	}
}

func TestBuilders(t *testing.T) {
	for _, tc := range exportCases() {
		t.Run(tc.name, func(t *testing.T) {
			m, err := tc.export(checkpoint.Weights(tc.tapeml(t, 1).params))
			if err != nil {
				t.Fatal(err)
			}
			if m.IRVersion != 7 || !reflect.DeepEqual(m.OpsetImports, []onnx.OpsetID{{Version: 13}}) || m.ProducerName != "tapeml" {
				t.Errorf("ir %d, opsets %v, producer %q", m.IRVersion, m.OpsetImports, m.ProducerName)
			}
			if !reflect.DeepEqual(m.Graph.Inputs, tc.inputs) {
				t.Errorf("inputs %+v, want %+v", m.Graph.Inputs, tc.inputs)
			}
			if !reflect.DeepEqual(m.Graph.Outputs, tc.outputs) {
				t.Errorf("outputs %+v, want %+v", m.Graph.Outputs, tc.outputs)
			}
			for name, dims := range tc.inits {
				init, ok := m.Graph.Initializer(name)
				if !ok {
					t.Errorf("no initializer %q", name)
					continue
				}
				if !reflect.DeepEqual(init.Dims, dims) && !(len(dims) == 0 && len(init.Dims) == 0) {
					t.Errorf("initializer %q has dims %v, want %v", name, init.Dims, dims)
				}
			}
			checkWellFormed(t, &m.Graph)
			if m.Metadata[onnx.MetaKind] != tc.kind {
				t.Errorf("metadata kind %q, want %q", m.Metadata[onnx.MetaKind], tc.kind)
			}
			cfg := reflect.New(reflect.TypeOf(tc.config))
			if err := json.Unmarshal([]byte(m.Metadata[onnx.MetaConfig]), cfg.Interface()); err != nil {
				t.Errorf("metadata config: %v", err)
			} else if !reflect.DeepEqual(cfg.Elem().Interface(), tc.config) {
				t.Errorf("metadata config %s does not decode to %+v", m.Metadata[onnx.MetaConfig], tc.config)
			}

		})
	}
}

// TestUnchangedWeights: initializers under PyTorch names hold the
// checkpoint's values as they are.
func TestUnchangedWeights(t *testing.T) {
	for _, tc := range exportCases() {
		ws := checkpoint.Weights(tc.tapeml(t, 2).params)
		m, err := tc.export(ws)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range ws {
			init, ok := m.Graph.Initializer(w.Name)
			if !ok {
				continue // re-laid out (LSTM) or unused (num_batches_tracked)
			}
			// both are little-endian float32s in row-major order
			if init.DataType != onnx.Float || !bytes.Equal(init.RawData, w.Data) {
				t.Errorf("%s: initializer %q differs from the weight", tc.name, w.Name)
			}
		}
	}
}

// TestLSTMGateLayout checks the re-laid-out LSTM weights element by
// element: ONNX gate block og of direction d is PyTorch block
// onnxGateOrder[og] of the same direction, and B is bias_ih then bias_hh.
// onnxGateOrder is, for each of ONNX's LSTM gate blocks (i, o, f, c), the
// PyTorch block (i, f, g, o) it holds: stated here again, from the two
// specifications, rather than read from models/lstm.
var onnxGateOrder = [4]int{0, 3, 1, 2}

func TestLSTMGateLayout(t *testing.T) {
	const H, E = 2, 3
	cfg := lstm.Config{NumWords: 4, EmbedDim: E, Hidden: H, Layers: 1, Bidirectional: true, MaxLen: 5}
	// value = 1000·tensor + 100·direction + row·10 + col, all distinct
	val := func(tensor, dir, row, col int) float32 { return float32(1000*tensor + 100*dir + 10*row + col) }
	mk := func(name string, tensor, dir int, shape ...int) safetensors.Tensor {
		cols := 1
		if len(shape) == 2 {
			cols = shape[1]
		}
		v := make([]float32, shape[0]*cols)
		for r := range shape[0] {
			for c := range cols {
				v[r*cols+c] = val(tensor, dir, r, c)
			}
		}
		return safetensors.F32(name, shape, v)
	}
	ws := []safetensors.Tensor{safetensors.F32("embedding.weight", []int{4, E}, make([]float32, 4*E))}
	for d, suffix := range []string{"_l0", "_l0_reverse"} {
		ws = append(ws,
			mk("rnn.weight_ih"+suffix, 0, d, 4*H, E), mk("rnn.weight_hh"+suffix, 1, d, 4*H, H),
			mk("rnn.bias_ih"+suffix, 2, d, 4*H), mk("rnn.bias_hh"+suffix, 3, d, 4*H))
	}
	ws = append(ws, safetensors.F32("fc.weight", []int{1, 2 * H}, make([]float32, 2*H)), safetensors.F32("fc.bias", []int{1}, []float32{0}))
	m, err := cfg.ONNX(ws)
	if err != nil {
		t.Fatal(err)
	}
	get := func(name string) []float32 {
		init, ok := m.Graph.Initializer(name)
		if !ok {
			t.Fatalf("no initializer %q", name)
		}
		v := make([]float32, len(init.RawData)/4)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(init.RawData[4*i:]))
		}
		return v
	}
	W, R, B := get("rnn.W_l0"), get("rnn.R_l0"), get("rnn.B_l0")
	for d := range 2 {
		for og, pg := range onnxGateOrder {
			for r := range H {
				row := og*H + r   // row in the ONNX block layout
				ptRow := pg*H + r // the PyTorch row it comes from
				for c := range E {
					if got, want := W[(d*4*H+row)*E+c], val(0, d, ptRow, c); got != want {
						t.Errorf("W[%d][%d][%d] = %v, want %v", d, row, c, got, want)
					}
				}
				for c := range H {
					if got, want := R[(d*4*H+row)*H+c], val(1, d, ptRow, c); got != want {
						t.Errorf("R[%d][%d][%d] = %v, want %v", d, row, c, got, want)
					}
				}
				if got, want := B[d*8*H+row], val(2, d, ptRow, 0); got != want {
					t.Errorf("B[%d][%d] (Wb) = %v, want %v", d, row, got, want)
				}
				if got, want := B[d*8*H+4*H+row], val(3, d, ptRow, 0); got != want {
					t.Errorf("B[%d][%d] (Rb) = %v, want %v", d, 4*H+row, got, want)
				}
			}
		}
	}
}

// TestBadWeights: each problem is named, and all of them in one error.
func TestBadWeights(t *testing.T) {
	cases := map[string]exportCase{}
	for _, tc := range exportCases() {
		cases[tc.name] = tc
	}
	weightsOf := func(name string) []safetensors.Tensor {
		return checkpoint.Weights(cases[name].tapeml(t, 1).params)
	}
	replace := func(ws []safetensors.Tensor, name string, f func(*safetensors.Tensor)) []safetensors.Tensor {
		for i := range ws {
			if ws[i].Name == name {
				f(&ws[i])
				return ws
			}
		}
		t.Fatalf("no weight %q", name)
		return nil
	}
	drop := func(ws []safetensors.Tensor, name string) []safetensors.Tensor {
		out := ws[:0]
		for _, w := range ws {
			if w.Name != name {
				out = append(out, w)
			}
		}
		return out
	}
	tests := []struct {
		model string
		spoil func([]safetensors.Tensor) []safetensors.Tensor
		want  []string
	}{
		{"textcnn", func(ws []safetensors.Tensor) []safetensors.Tensor { return drop(ws, "conv.bias") },
			[]string{`onnx: textcnn: the weights do not fit the config: missing "conv.bias" [6]`}},
		{"textcnn", func(ws []safetensors.Tensor) []safetensors.Tensor {
			return replace(ws, "fc.weight", func(w *safetensors.Tensor) { *w = safetensors.F32(w.Name, []int{1, 50}, make([]float32, 50)) })
		}, []string{`"fc.weight" has shape [1 50], the config needs [1 54]`}},
		{"lstm", func(ws []safetensors.Tensor) []safetensors.Tensor {
			return replace(ws, "rnn.bias_hh_l1_reverse", func(w *safetensors.Tensor) { *w = safetensors.I64(w.Name, []int{20}, make([]int64, 20)) })
		}, []string{`tensor "rnn.bias_hh_l1_reverse" is I64, not F32`}},
		{"lstm", func(ws []safetensors.Tensor) []safetensors.Tensor {
			return drop(drop(ws, "rnn.weight_ih_l1"), "fc.bias")
		}, []string{`missing "rnn.weight_ih_l1" [20 10]`, `missing "fc.bias" [1]`}},
		{"lstm_unidirectional", func(ws []safetensors.Tensor) []safetensors.Tensor {
			return append(ws, safetensors.F32("rnn.weight_ih_l0_reverse", []int{16, 6}, make([]float32, 96)))
		}, []string{`unexpected tensor "rnn.weight_ih_l0_reverse"`}},
		{"convnet", func(ws []safetensors.Tensor) []safetensors.Tensor {
			return append(drop(ws, "layer2.1.running_var"), safetensors.F32("fc.9.weight", []int{1}, []float32{0}))
		}, []string{`missing "layer2.1.running_var" [128]`, `unexpected tensor "fc.9.weight"`}},
		{"mf", func(ws []safetensors.Tensor) []safetensors.Tensor {
			return append(ws, safetensors.F32("global_bias", []int{1}, []float32{3}))
		}, []string{`tensor "global_bias" appears twice`}},
		{"mf", func(ws []safetensors.Tensor) []safetensors.Tensor {
			return replace(ws, "item_bias.weight", func(w *safetensors.Tensor) { w.Data = w.Data[:8] })
		}, []string{`tensor "item_bias.weight": F32 × shape [9 1] is 36 bytes, but it has 8`}},
	}
	for _, tc := range tests {
		m, err := cases[tc.model].export(tc.spoil(weightsOf(tc.model)))
		if err == nil {
			t.Errorf("%s: no error (model with %d nodes)", tc.model, len(m.Graph.Nodes))
			continue
		}
		for _, want := range tc.want {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not contain %q", tc.model, err, want)
			}
		}
	}
}

func TestBadConfig(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"textcnn", second(textcnn.Config{NumWords: 50, EmbedDim: 8, Filters: 6, Kernel: 3, MaxLen: 20}.ONNX(nil)), "onnx: textcnn: pool must be at least 1"},
		{"lstm", second(lstm.Config{NumWords: 30, EmbedDim: 6, Layers: 1, MaxLen: 9}.ONNX(nil)), "onnx: lstm: hidden must be at least 1"},
		{"convnet", second(convnet.Config{Channels: 3, Height: 2, Width: 8, Classes: 4}.ONNX(nil)), "too small"},
		{"mf", second(mf.Config{Items: 3}.ONNX(nil)), "onnx: mf: users 0 and items 3 must be at least 1"},
	}
	for _, tc := range tests {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, tc.err, tc.want)
		}
	}
}

func second[A, B any](_ A, b B) B { return b }

// TestBatchNumBatchesTrackedIgnored: the counters are not needed and not
// exported, but their presence is fine.
func TestBatchNumBatchesTrackedIgnored(t *testing.T) {
	ws := checkpoint.Weights(newTapeml(t, must(convnet.New(small.ConvNet)), 1).params)
	var counters int
	for _, w := range ws {
		if strings.HasSuffix(w.Name, ".num_batches_tracked") {
			counters++
		}
	}
	if counters != 2 {
		t.Fatalf("the tapeml convnet has %d num_batches_tracked, expected 2", counters)
	}
	m := must(small.ConvNet.ONNX(ws))
	for _, init := range m.Graph.Initializers {
		if strings.HasSuffix(init.Name, "num_batches_tracked") {
			t.Errorf("initializer %q exported", init.Name)
		}
	}
}
