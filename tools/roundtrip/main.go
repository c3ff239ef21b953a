// Command roundtrip writes the fixtures of tapeml's export round trips:
// for each model, its safetensors and ONNX exports and io.json, which holds
// inputs and tapeml's own outputs for them. tools/pytorch/roundtrip.py
// loads the safetensors files into the PyTorch modules and checks the ONNX
// files with onnx.checker; tools/onnx/run.mjs runs the ONNX files in ONNX
// Runtime. Both compare with io.json. tools/roundtrip/run.sh runs it all.
//
//	go run ./tools/roundtrip -out /tmp/roundtrip                 # the four models, reference configs, random weights
//	go run ./tools/roundtrip -out /tmp/rt -checkpoint runs/X     # a trained checkpoint
//
// Random weights are drawn around PyTorch's initialisation with every
// tensor perturbed (BatchNorm's running statistics too), so no part of a
// model is an identity that would hide a wrong layout.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/export"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/models/convnet"
	"github.com/tapeml/tapeml/models/lstm"
	"github.com/tapeml/tapeml/models/mf"
	"github.com/tapeml/tapeml/models/textcnn"
	"github.com/tapeml/tapeml/recommender"
	"github.com/tapeml/tapeml/textclass"
)

func main() {
	out := flag.String("out", "", "folder to write one sub-folder per model into")
	ckpt := flag.String("checkpoint", "", "export this checkpoint (or run folder's best) instead of the four random-weight models")
	rows := flag.Int("rows", 8, "examples per model in io.json")
	seed := flag.Uint64("seed", 1, "seed of the weights and inputs")
	back := flag.Bool("check-import", false, "instead: import the torch.safetensors files tools/pytorch/roundtrip.py wrote into -out's folders and compare with PyTorch's outputs")
	flag.Parse()
	var err error
	if *back {
		err = checkImport(*out)
	} else {
		err = run(*out, *ckpt, *rows, *seed)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "roundtrip:", err)
		os.Exit(1)
	}
}

func run(out, ckpt string, rows int, seed uint64) error {
	if out == "" {
		return fmt.Errorf("-out is required")
	}
	if rows < 1 {
		return fmt.Errorf("-rows must be at least 1")
	}
	var cs []*checkpoint.Checkpoint
	if ckpt != "" {
		dir, err := checkpoint.Resolve(ckpt, checkpoint.PickBest)
		if err != nil {
			return err
		}
		c, err := checkpoint.Load(dir)
		if err != nil {
			return err
		}
		cs = append(cs, c)
	} else {
		// model_config as tapeml's trainers write it.
		for _, m := range []struct {
			kind   string
			config any
		}{
			{textcnn.Kind, map[string]any{"model": textcnn.DefaultConfig()}},
			{lstm.Kind, map[string]any{"model": lstm.DefaultConfig()}},
			{convnet.Kind, map[string]any{"model": convnet.DefaultConfig()}},
			{recommender.Kind, map[string]any{"algo": "mf", "mf": mfConfig()}},
		} {
			c, err := randomCheckpoint(m.kind, m.config, seed)
			if err != nil {
				return err
			}
			cs = append(cs, c)
		}
	}
	for _, c := range cs {
		dir := filepath.Join(out, c.Meta.ModelKind)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := fixture(c, dir, rows, seed); err != nil {
			return fmt.Errorf("%s: %w", c.Meta.ModelKind, err)
		}
		fmt.Printf("%s: %s\n", c.Meta.ModelKind, dir)
	}
	return nil
}

// mfConfig is a small MF whose predictions spread over the rating scale
// rather than sitting at its floor.
func mfConfig() mf.Config {
	c := mf.DefaultConfig(50, 80)
	c.GlobalMean, c.InitStd = 3.5, 0.3
	return c
}

// randomCheckpoint makes an in-memory checkpoint of m with perturbed
// initial weights, in the layout tapeml's trainers write.
func randomCheckpoint(kind string, config any, seed uint64) (*checkpoint.Checkpoint, error) {
	raw, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	c := &checkpoint.Checkpoint{}
	c.Meta.ModelKind, c.Meta.ModelConfig, c.Meta.WeightsOnly = kind, raw, true
	c.Meta.Preprocessing = json.RawMessage(`{"fixture":"tools/roundtrip: random weights"}`)
	params, err := materialize(c)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	for _, p := range params.List() {
		v := p.Value.Float32s()
		switch {
		case p.Counter:
			for i := range v {
				v[i] = 7
			}
		case strings.HasSuffix(p.Name, "running_var"):
			for i := range v {
				v[i] = float32(0.5 + rng.Float64())
			}
		default:
			scale := stddev(v)
			if scale == 0 {
				scale = 0.1
			}
			for i := range v {
				v[i] += float32(scale * rng.NormFloat64())
			}
		}
	}
	c.Weights = checkpoint.Weights(params)
	return c, nil
}

func stddev(v []float32) float64 {
	var s, s2 float64
	for _, x := range v {
		s += float64(x)
		s2 += float64(x) * float64(x)
	}
	n := float64(len(v))
	return math.Sqrt(max(0, s2/n-(s/n)*(s/n)))
}

// materialize builds c's network with fresh parameters.
func materialize(c *checkpoint.Checkpoint) (*graph.Params, error) {
	_, cfg, err := kinds.Describe(c.Meta.ModelKind, c.Meta.ModelConfig, "checkpoint")
	if err != nil {
		return nil, err
	}
	net, err := cfg.Network()
	if err != nil || net == nil {
		return nil, fmt.Errorf("%s: not a network (%v)", c.Meta.ModelKind, err)
	}
	params := graph.NewParams(tensor.Float32, 1)
	if err := graph.Materialize(net.Build, params); err != nil {
		return nil, err
	}
	return params, nil
}

// array is one io.json tensor.
type array struct {
	Dtype string    `json:"dtype"`
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

// fixture exports c into dir, saves c there as checkpoint/ (the --like of
// the way back) and writes io.json with inputs and tapeml's outputs.
func fixture(c *checkpoint.Checkpoint, dir string, rows int, seed uint64) error {
	_, m, err := kinds.Describe(c.Meta.ModelKind, c.Meta.ModelConfig, "checkpoint")
	if err != nil {
		return err
	}
	for _, f := range export.Formats {
		if f.Folder() { // Hugging Face folders (transformers only): models/transformer's tests and hf_load.py
			continue
		}
		if err := export.WriteFile(c, f, filepath.Join(dir, "model."+string(f))); err != nil {
			return err
		}
	}
	if err := checkpoint.Save(filepath.Join(dir, "checkpoint"), c); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(seed, 11))
	inputs := map[string]array{}
	switch a := m.(type) {
	case textclass.Arch:
		inputs["ids"] = array{"int64", []int{rows, a.SeqLen()}, tokenRows(rng, rows, a.SeqLen(), a.Vocab())}
	case *convnet.Config:
		cf := a
		v := make([]float64, rows*cf.Channels*cf.Height*cf.Width)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		inputs["images"] = array{"float32", []int{rows, cf.Channels, cf.Height, cf.Width}, v}
	case *recommender.Config:
		u, it := make([]float64, rows), make([]float64, rows)
		for i := range u {
			u[i], it[i] = float64(rng.IntN(a.MF.Users)), float64(rng.IntN(a.MF.Items))
		}
		inputs["user"], inputs["item"] = array{"int64", []int{rows}, u}, array{"int64", []int{rows}, it}
	}
	outputs, err := infer(c, m, inputs)
	if err != nil {
		return err
	}
	b, err := json.Marshal(ioFile{Kind: c.Meta.ModelKind, Inputs: inputs, Outputs: outputs})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "io.json"), b, 0o644)
}

// ioFile is io.json (and torch_io.json).
type ioFile struct {
	Kind    string           `json:"kind"`
	Inputs  map[string]array `json:"inputs"`
	Outputs map[string]array `json:"outputs"`
}

// infer runs tapeml's inference graph of c on inputs and returns its
// outputs under io.json's names.
func infer(c *checkpoint.Checkpoint, m kinds.Config, inputs map[string]array) (map[string]array, error) {
	net, err := m.Network()
	if err != nil || net == nil {
		return nil, fmt.Errorf("%s: not a network (%v)", c.Meta.ModelKind, err)
	}
	params := graph.NewParams(tensor.Float32, 1)
	prog := graph.NewProgram(net.Build, net.Loss, params, nil)
	if err := prog.Materialize(); err != nil {
		return nil, err
	}
	if err := checkpoint.LoadWeights(params, c.Weights, "checkpoint"); err != nil {
		return nil, err
	}
	names := []string{"ids"}
	_, isMF := m.(*recommender.Config)
	switch m.(type) {
	case *convnet.Config:
		names = []string{"images"}
	case *recommender.Config:
		names = []string{"user", "item"}
	}
	var feed []*tensor.Dense
	rows := 0
	for _, name := range names {
		a, ok := inputs[name]
		if !ok {
			return nil, fmt.Errorf("no input %q", name)
		}
		shape := a.Shape
		if isMF {
			shape = []int{a.Shape[0], 1} // the graph takes index columns
		}
		rows = shape[0]
		f32 := make([]float32, len(a.Data))
		for i, x := range a.Data {
			f32[i] = float32(x)
		}
		feed = append(feed, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f32)))
	}
	mach, err := prog.Machine(rows, graph.Infer)
	if err != nil {
		return nil, err
	}
	if err := mach.Run(feed, nil); err != nil {
		return nil, err
	}
	raw, probs := f64(mach.Output().Float32s()), f64(metrics.Probabilities(net.Task(), mach.Output().Float32s(), mach.Output().Shape()[len(mach.Output().Shape())-1]))
	if isMF {
		return map[string]array{"rating": {"float32", []int{rows}, raw}}, nil
	}
	shape := []int{rows, len(raw) / rows} // [rows, 1] or [rows, classes]
	return map[string]array{"logits": {"float32", shape, raw}, "probs": {"float32", shape, probs}}, nil
}

// checkImport imports each model folder's torch.safetensors (saved by
// tools/pytorch/roundtrip.py, without tapeml metadata) with the folder's
// checkpoint as --like, and compares tapeml's outputs with PyTorch's.
func checkImport(out string) error {
	entries, err := os.ReadDir(out)
	if err != nil {
		return err
	}
	failed := false
	for _, e := range entries {
		dir := filepath.Join(out, e.Name())
		raw, err := os.ReadFile(filepath.Join(dir, "torch_io.json"))
		if err != nil {
			continue
		}
		var want ioFile
		if err := json.Unmarshal(raw, &want); err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
		like, err := checkpoint.Load(filepath.Join(dir, "checkpoint"))
		if err != nil {
			return err
		}
		c, err := kinds.Import(filepath.Join(dir, "torch.safetensors"), like)
		if err != nil {
			return err
		}
		_, m, err := kinds.Describe(c.Meta.ModelKind, c.Meta.ModelConfig, dir)
		if err != nil {
			return err
		}
		got, err := infer(c, m, want.Inputs)
		if err != nil {
			return err
		}
		for _, name := range sortedKeys(want.Outputs) {
			absd, reld := worst(got[name].Data, want.Outputs[name].Data)
			status := "ok"
			if reld > 1e-4 || len(got[name].Data) != len(want.Outputs[name].Data) {
				status, failed = "FAIL", true
			}
			fmt.Printf("%-8s import   %-7s max |diff| %.2e (relative %.2e) %s\n", want.Kind, name, absd, reld, status)
		}
	}
	if failed {
		return fmt.Errorf("imported weights disagree with PyTorch")
	}
	return nil
}

func sortedKeys(m map[string]array) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// worst is the largest absolute difference and the largest difference
// relative to max(1, |want|).
func worst(got, want []float64) (abs, rel float64) {
	for i := range min(len(got), len(want)) {
		d := math.Abs(got[i] - want[i])
		abs, rel = max(abs, d), max(rel, d/math.Max(1, math.Abs(want[i])))
	}
	return abs, rel
}

// tokenRows makes rows of token ids (0 = padding) in every layout the
// LSTM's packing must handle, cycling through: 'pre' padding, 'post'
// padding, full length, all padding (an empty text), padding on both
// sides, padding between tokens, a single token, and a random 'pre' length.
func tokenRows(rng *rand.Rand, rows, maxLen, numWords int) []float64 {
	v := make([]float64, rows*maxLen)
	for r := 0; r < rows; r++ {
		row := v[r*maxLen : (r+1)*maxLen]
		n := 1 + rng.IntN(maxLen)
		for j := range row {
			var real bool
			switch r % 8 {
			case 0:
				real = j >= maxLen/2
			case 1:
				real = j < maxLen/3
			case 2:
				real = true
			case 3:
				real = false
			case 4:
				real = j > 1 && j < maxLen-2
			case 5:
				real = j%3 != 1
			case 6:
				real = j == maxLen-1
			case 7:
				real = j >= maxLen-n
			}
			if real {
				row[j] = float64(1 + rng.IntN(numWords-1))
			}
		}
	}
	return v
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
