// Command qdqcheck measures how well the QDQ ONNX export of an int8
// checkpoint (`tapeml optimize --int8`) agrees with tapeml's own int8
// model on the test split of the checkpoint's data, in ONNX Runtime.
//
//	go run ./tools/qdqcheck -checkpoint runs/spam-int8 [-batch 32] [-threads 2] [-n 0] [-optimized FILE] [-keep FILE] [-bench-inputs FILE]
//
// It exports the checkpoint as export.WriteFile does (QDQ), runs tapeml's
// int8 model (Model.Forward) and the export in ONNX Runtime
// (tools/onnx/infer.mjs; `npm ci --ignore-scripts` in tools/onnx first)
// on the same test inputs in batches of -batch, and prints the top-1
// agreement, the largest |Δlogit|, both sides' accuracy, and the ops ONNX
// Runtime runs after its graph optimizations (its int8 kernels:
// QLinearConv, MatMulIntegerToFloat, DynamicQuantizeMatMul,
// DynamicQuantizeLSTM…). Top-1 is the sign of a single logit (binary
// classifiers) or the largest logit. -bench-inputs writes the first 32
// test examples and the first one as tools/onnx/bench.mjs reads them, to
// time the export against the float32 one in ONNX Runtime.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/export"
	"github.com/tapeml/tapeml/internal/core"
	"github.com/tapeml/tapeml/internal/testutil/onnxtest"
	"github.com/tapeml/tapeml/internal/testutil/ortrun"
	"github.com/tapeml/tapeml/kinds"
	_ "github.com/tapeml/tapeml/models/all"
	"github.com/tapeml/tapeml/onnx"
	_ "github.com/tapeml/tapeml/samples"
)

func main() {
	ckpt := flag.String("checkpoint", "", "int8 checkpoint or run folder (its best checkpoint)")
	batch := flag.Int("batch", 32, "examples per batch on both sides")
	threads := flag.Int("threads", 2, "ONNX Runtime's intra-op threads")
	n := flag.Int("n", 0, "test examples to compare (0: the whole test split)")
	optimized := flag.String("optimized", "", "also write the graph ONNX Runtime runs after its optimizations here")
	keep := flag.String("keep", "", "also keep the QDQ export here")
	benchInputs := flag.String("bench-inputs", "", "also write batches of 32 and 1 test examples for tools/onnx/bench.mjs here")
	flag.Parse()
	if err := run(*ckpt, *batch, *threads, *n, *optimized, *keep, *benchInputs); err != nil {
		fmt.Fprintln(os.Stderr, "qdqcheck:", err)
		os.Exit(1)
	}
}

func run(ckpt string, batch, threads, limit int, optimized, keep, benchInputs string) error {
	if ckpt == "" || batch < 1 {
		return errors.New("-checkpoint is required, and -batch must be at least 1")
	}
	if err := ortrun.Available(); err != nil {
		return err
	}
	ctx := context.Background()
	m, err := tapeml.LoadWithOptions(ckpt, tapeml.Options{MaxBatch: batch})
	if err != nil {
		return err
	}
	if !m.Quantized() {
		return fmt.Errorf("%s is not an int8 checkpoint (tapeml optimize --int8 writes one)", ckpt)
	}
	l := core.Unwrap(m).Loaded
	sp, ok := l.Codec.(kinds.Splitter)
	if !ok {
		return fmt.Errorf("a %s model cannot read its data again", l.Name())
	}
	_, _, test, err := sp.Splits(ctx)
	if err != nil {
		return err
	}
	if test == nil || test.Len() == 0 {
		return errors.New("the model's data has no test split")
	}
	if limit <= 0 {
		limit = test.Len()
	}
	inputs, targets, rows, err := dataset.Head(test, min(limit, test.Len()))
	if err != nil {
		return err
	}

	// tapeml's int8 logits, batch by batch.
	var mine []float32
	for from := 0; from < rows; from += batch {
		to := min(rows, from+batch)
		part := make([][]float32, len(inputs))
		for k, in := range inputs {
			w := len(in) / rows
			part[k] = in[from*w : to*w]
		}
		out, err := m.Forward(ctx, part, to-from)
		if err != nil {
			return err
		}
		mine = append(mine, out...)
	}

	// The QDQ export in ONNX Runtime.
	dir, err := os.MkdirTemp("", "qdqcheck")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.onnx")
	if keep != "" {
		path = keep
	}
	c, err := checkpoint.Open(ckpt, checkpoint.PickBest)
	if err != nil {
		return err
	}
	if err := export.WriteFile(c, export.ONNX, path); err != nil {
		return err
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	g, err := onnxtest.Unmarshal(raw)
	if err != nil {
		return err
	}
	feeds := map[string]ortrun.Array{}
	for k, vi := range g.Graph.Inputs {
		if k >= len(inputs) {
			return fmt.Errorf("the export has %d inputs, the model %d", len(g.Graph.Inputs), len(inputs))
		}
		a := ortrun.Array{Dtype: "float32", Shape: []int{rows}, Data: make([]float64, len(inputs[k]))}
		if vi.ElemType == onnx.Int64 {
			a.Dtype = "int64"
		}
		for _, d := range vi.Shape[1:] {
			a.Shape = append(a.Shape, int(d.Value))
		}
		for i, v := range inputs[k] {
			a.Data[i] = float64(v)
		}
		feeds[vi.Name] = a
	}
	if benchInputs != "" {
		if err := writeBenchInputs(benchInputs, feeds, rows); err != nil {
			return err
		}
	}
	if optimized == "" {
		optimized = filepath.Join(dir, "optimized.onnx")
	}
	res, err := ortrun.Infer(path, feeds, ortrun.InferOptions{Batch: batch, Threads: threads, Optimized: optimized})
	if err != nil {
		return err
	}
	theirs, ok := res["logits"]
	if !ok || len(theirs.Data) != len(mine) {
		return fmt.Errorf("ONNX Runtime gave no logits of %d values (%v)", len(mine), theirs.Shape)
	}

	width := len(mine) / rows
	same, rightMine, rightTheirs := 0, 0, 0
	maxDiff := 0.0
	for i := range rows {
		a, b := onnxtest.Top1(mine[i*width:(i+1)*width]), onnxtest.Top1(theirs.Data[i*width:(i+1)*width])
		if a == b {
			same++
		}
		if targets != nil && float32(a) == targets[i] {
			rightMine++
		}
		if targets != nil && float32(b) == targets[i] {
			rightTheirs++
		}
		for j := i * width; j < (i+1)*width; j++ {
			maxDiff = max(maxDiff, math.Abs(float64(mine[j])-theirs.Data[j]))
		}
	}
	fmt.Printf("%s (%s): %d test examples, batch %d\n", ckpt, m.Kind(), rows, batch)
	fmt.Printf("top-1 agreement tapeml int8 vs ONNX Runtime QDQ: %d/%d = %.4f; max |Δlogit| %.4g\n", same, rows, float64(same)/float64(rows), maxDiff)
	if targets != nil {
		fmt.Printf("accuracy: tapeml int8 %.4f, ONNX Runtime QDQ %.4f\n", float64(rightMine)/float64(rows), float64(rightTheirs)/float64(rows))
	}
	raw, err = os.ReadFile(optimized)
	if err != nil {
		return err
	}
	og, err := onnxtest.Unmarshal(raw)
	if err != nil {
		return err
	}
	fmt.Println("ONNX Runtime's optimized graph:", opCounts(og))
	return nil
}

// opCounts lists the graph's op types with their counts, contrib ops
// with their domain.
func opCounts(m *onnx.Model) string {
	counts := map[string]int{}
	for _, nd := range m.Graph.Nodes {
		name := nd.OpType
		if nd.Domain != "" {
			name = nd.Domain + "." + name
		}
		counts[name]++
	}
	var names []string
	for k := range counts {
		names = append(names, k)
	}
	sort.Strings(names)
	var parts []string
	for _, k := range names {
		parts = append(parts, fmt.Sprintf("%s×%d", k, counts[k]))
	}
	return strings.Join(parts, " ")
}

// writeBenchInputs writes the first 32 examples of feeds (rows of them)
// and the first one, as bench.mjs reads them.
func writeBenchInputs(path string, feeds map[string]ortrun.Array, rows int) error {
	out := map[string]map[string]ortrun.Array{}
	for _, n := range []int{32, 1} {
		if n > rows {
			continue
		}
		batch := map[string]ortrun.Array{}
		for name, a := range feeds {
			w := len(a.Data) / rows
			shape := append([]int{n}, a.Shape[1:]...)
			batch[name] = ortrun.Array{Dtype: a.Dtype, Shape: shape, Data: a.Data[:n*w]}
		}
		out[fmt.Sprint(n)] = batch
	}
	raw, err := json.Marshal(out)
	if err != nil {
		return err
	}
	return os.WriteFile(path, raw, 0o644)
}
