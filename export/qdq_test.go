package export_test

import (
	"context"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/export"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/internal/core"
	"github.com/tapeml/tapeml/internal/testutil/onnxtest"
	"github.com/tapeml/tapeml/internal/testutil/ortrun"
	"github.com/tapeml/tapeml/onnx"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/tapemltest"
)

// int8Copy writes the int8 form of the float32 checkpoint at dir to out,
// as `tapeml optimize --int8` does (every weight of a Linear, LSTM,
// convolution or embedding per row; a convolution's input scale, and a
// table it reads, from calibration on batch), except the layers skip
// names, which stay float32.
func int8Copy(t *testing.T, dir, out string, batch tapemltest.Batch, skip ...string) {
	t.Helper()
	m, err := tapeml.LoadWithOptions(dir, tapeml.Options{MaxBatch: 32})
	if err != nil {
		t.Fatal(err)
	}
	l := core.Unwrap(m).Loaded
	l.Params.Calibrate()
	if _, err := m.Forward(context.Background(), [][]float32{batch.Data}, batch.Shape[0]); err != nil {
		t.Fatal(err)
	}
	calib := l.Params.Calibration()
	shapes, err := graph.ParamShapes(l.Network.Build)
	if err != nil {
		t.Fatal(err)
	}
	c, err := checkpoint.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]safetensors.Tensor{}
	for _, w := range c.Weights {
		byName[w.Name] = w
	}
	info := &checkpoint.Quantization{Format: "int8", Tensors: map[string]string{}}
	var ts []safetensors.Tensor
	for _, p := range shapes {
		w := byName[p.Name]
		if p.Role == graph.RoleNone || len(p.Shape) < 2 || p.Shape[1] < 2 || skipped(p.Name, skip) {
			ts = append(ts, w)
			continue
		}
		v, err := w.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		q := graph.QuantizeRows(v, p.Shape)
		if a, ok := calib[p.Name]; ok && p.Role == graph.RoleEmbedding {
			q = graph.QuantizeWithScale(v, p.Shape, float32(a/127))
		}
		if p.Role == graph.RoleConv {
			q.InputScale = float32(calib[p.Name] / 127)
		}
		ts = append(ts, checkpoint.QuantTensors(p.Name, q)...)
		info.Tensors[p.Name] = p.Role.String()
	}
	raw, err := checkpoint.QuantizationJSON(info)
	if err != nil {
		t.Fatal(err)
	}
	c.Dir, c.Weights, c.Extra = "", ts, map[string][]byte{checkpoint.QuantizationFile: raw}
	if err := checkpoint.Save(out, c); err != nil {
		t.Fatal(err)
	}
}

func skipped(name string, skip []string) bool {
	for _, s := range skip {
		if strings.HasPrefix(name, s) {
			return true
		}
	}
	return false
}

var qdqAll = flag.Bool("export.qdq", false, "TestQDQInONNXRuntime: also the reference TextCNN, LSTM and ConvNet, and layers kept in float32 (about 40 s)")

// TestQDQInONNXRuntime: the QDQ export of each kind's int8 model runs in
// ONNX Runtime with its int8 kernels and gives tapeml's int8 answers. The
// logits differ by the rounding of the two activation quantizations
// (package onnx: per row in tapeml, per tensor in a dynamic Linear), so
// the test compares top-1 answers and bounds |Δlogit| relative to the
// logits' spread.
func TestQDQInONNXRuntime(t *testing.T) {
	if err := ortrun.Available(); err != nil {
		t.Skip(err)
	}
	for _, tc := range []struct {
		kind  string
		skip  []string // layers kept in float32
		fused []string // ops ONNX Runtime must run after its optimizations
		// tol bounds max |Δlogit| as a share of the span of tapeml's
		// logits: tight where tapeml's quantization is reproduced
		// exactly (a convolution's static scale), looser where ONNX
		// Runtime's dynamic Linear quantizes per tensor, not per row.
		tol  float64
		long bool // run with -export.qdq only (the reference architectures take seconds each)
	}{
		{kind: "smallconvnet", fused: []string{"com.microsoft.DynamicQuantizeMatMul", "QuantizeLinear"}, tol: 0.01},
		{kind: "transformer", fused: []string{"com.microsoft.DynamicQuantizeMatMul"}, tol: 0.05},
		{kind: "transformer", skip: []string{"bert.encoder.layer.0.attention.self.key", "bert.encoder.layer.1.intermediate"}, fused: []string{"com.microsoft.DynamicQuantizeMatMul", "Gemm"}, tol: 0.05, long: true},
		{kind: "textcnn", fused: []string{"com.microsoft.DynamicQuantizeMatMul", "QuantizeLinear"}, tol: 0.05, long: true},
		{kind: "lstm", fused: []string{"com.microsoft.DynamicQuantizeLSTM", "com.microsoft.DynamicQuantizeMatMul"}, tol: 0.05, long: true},
		{kind: "lstm", skip: []string{"rnn.weight_hh_l1"}, fused: []string{"com.microsoft.DynamicQuantizeLSTM", "LSTM"}, tol: 0.05, long: true},
		{kind: "convnet", fused: []string{"com.microsoft.DynamicQuantizeMatMul", "QuantizeLinear"}, tol: 0.02, long: true},
		{kind: "convnet", skip: []string{"layer2.", "fc.6"}, fused: []string{"com.microsoft.DynamicQuantizeMatMul", "QuantizeLinear", "Gemm"}, tol: 0.02, long: true},
	} {
		t.Run(tc.kind+strings.Join(tc.skip, ","), func(t *testing.T) {
			if tc.long && !*qdqAll {
				t.Skip("-export.qdq runs it")
			}
			tmp := t.TempDir()
			var dir string
			var in tapemltest.Batch
			if tc.kind == "smallconvnet" {
				var err error
				if dir, err = tapemltest.SmallConvNet(tmp, 3); err != nil {
					t.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(3, 4))
				in = tapemltest.Batch{Name: "images", Dtype: "float32", Shape: []int{32, 3, 8, 8}, Data: make([]float32, 32*3*8*8)}
				for i := range in.Data {
					in.Data[i] = float32(rng.NormFloat64())
				}
			} else {
				d, batches, err := tapemltest.Save(tc.kind, tmp)
				if err != nil {
					t.Fatal(err)
				}
				dir, in = d, batches[32]
			}
			q := filepath.Join(tmp, "int8")
			int8Copy(t, dir, q, in, tc.skip...)
			m, err := tapeml.Load(q)
			if err != nil {
				t.Fatal(err)
			}
			mine, err := m.Forward(context.Background(), [][]float32{in.Data}, 32)
			if err != nil {
				t.Fatal(err)
			}
			c, err := checkpoint.Open(q, checkpoint.PickBest)
			if err != nil {
				t.Fatal(err)
			}
			path, opt := filepath.Join(tmp, "qdq.onnx"), filepath.Join(tmp, "optimized.onnx")
			if err := export.WriteFile(c, export.ONNX, path); err != nil {
				t.Fatal(err)
			}
			a := ortrun.Array{Dtype: in.Dtype, Shape: in.Shape, Data: make([]float64, len(in.Data))}
			for i, v := range in.Data {
				a.Data[i] = float64(v)
			}
			res, err := ortrun.Infer(path, map[string]ortrun.Array{in.Name: a}, ortrun.InferOptions{Batch: 32, Optimized: opt})
			if err != nil {
				t.Fatal(err)
			}
			theirs := res["logits"].Data
			if len(theirs) != len(mine) {
				t.Fatalf("ONNX Runtime gave %d logits, tapeml %d", len(theirs), len(mine))
			}
			width := len(mine) / 32
			same, maxDiff, lo, hi := 0, 0.0, math.Inf(1), math.Inf(-1)
			for i := range 32 {
				if onnxtest.Top1(mine[i*width:(i+1)*width]) == onnxtest.Top1(theirs[i*width:(i+1)*width]) {
					same++
				}
				for j := i * width; j < (i+1)*width; j++ {
					maxDiff = max(maxDiff, math.Abs(float64(mine[j])-theirs[j]))
					lo, hi = min(lo, float64(mine[j])), max(hi, float64(mine[j]))
				}
			}
			t.Logf("top-1 agreement %d/32, max |Δlogit| %.4g (tapeml's logits span %.4g)", same, maxDiff, hi-lo)
			if same < 31 || maxDiff > tc.tol*(hi-lo) {
				t.Errorf("top-1 agreement %d/32, max |Δlogit| %.4g over a span of %.4g", same, maxDiff, hi-lo)
			}
			raw, err := os.ReadFile(opt)
			if err != nil {
				t.Fatal(err)
			}
			g, err := onnxtest.Unmarshal(raw)
			if err != nil {
				t.Fatal(err)
			}
			ops := map[string]bool{}
			for _, n := range g.Graph.Nodes {
				name := n.OpType
				if n.Domain != "" {
					name = n.Domain + "." + name
				}
				ops[name] = true
			}
			for _, op := range tc.fused {
				if !ops[op] {
					t.Errorf("ONNX Runtime's optimized graph has no %s: %v", op, ops)
				}
			}
			var int8Inits int
			for _, init := range g.Graph.Initializers {
				if init.DataType == onnx.Int8 {
					int8Inits++
				}
			}
			if int8Inits == 0 {
				t.Error("ONNX Runtime's optimized graph holds no int8 weights")
			}
		})
	}
}
