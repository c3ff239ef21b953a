package bench

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"strconv"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/models/convnet"
	"github.com/tapeml/tapeml/models/lstm"
	"github.com/tapeml/tapeml/models/mf"
	"github.com/tapeml/tapeml/models/textcnn"
	"github.com/tapeml/tapeml/models/transformer"
	"github.com/tapeml/tapeml/train"
)

// MF's benchmark shape: MovieLens 1M's users and items.
const (
	mfUsers = 6040
	mfItems = 3706
	mfBatch = 256
)

// transformerMaxLen is the transformer workload's text length: the
// comparison issue 26 asks for (seq 128, batch 32).
const transformerMaxLen = 128

// Training is the five reference models' training workloads, in the
// order they are reported, each with the PyTorch script of the same shape
// in scripts (run by python).
func Training(python, scripts string) []Workload {
	torch := func(script string, steps int, extra ...string) *Reference {
		return &Reference{Engine: "pytorch", Steps: steps, Command: func(threads, steps int) []string {
			return append([]string{python, filepath.Join(scripts, script), "--threads", strconv.Itoa(threads), "--steps", strconv.Itoa(steps)}, extra...)
		}}
	}
	// The ConvNet's step is ~30 ms: 60 timed steps (1.6 s), as 20 were
	// too few to average out the machine's swings (back-to-back runs
	// differed by up to 16%).
	return []Workload{
		{Name: "textcnn", Batch: 32, Steps: 100, Setup: setupTextCNN, Reference: torch("textcnn_bench.py", 20)},
		{Name: "convnet", Batch: 32, Steps: 60, Setup: setupConvNet, Reference: torch("convnet_bench.py", 10)},
		{Name: "lstm", Batch: 32, Steps: 5, Setup: setupLSTM, Reference: torch("lstm_bench.py", 2, "--maxlen", "100")},
		{Name: "transformer", Batch: 32, Steps: 20, Setup: setupTransformer, Reference: torch("transformer_bench.py", 20, "--maxlen", strconv.Itoa(transformerMaxLen))},
		{Name: "mf", Batch: mfBatch, Steps: 200, Setup: setupMF, Reference: torch("mf_bench.py", 50, "--batch", strconv.Itoa(mfBatch), "--users", strconv.Itoa(mfUsers), "--items", strconv.Itoa(mfItems))},
	}
}

// trainer returns a step function training m on ds in batches of batch
// from a pool of examples, cycling through them.
func trainer(m train.Model, cfg train.Config, ds dataset.Dataset, batch int) (func(int) error, int64, error) {
	tr, err := train.New(m, graph.NewParams(tensor.Float32, 1), cfg)
	if err != nil {
		return nil, 0, err
	}
	if err := tr.Fit(context.Background(), dataset.Subset{Dataset: ds, Index: []int{0}}, nil); err != nil { // builds the schedule
		return nil, 0, err
	}
	machine, err := tr.Program.Machine(batch, graph.Train)
	if err != nil {
		return nil, 0, err
	}
	idx := make([]int, batch)
	n := ds.Len()
	return func(i int) error {
		for j := range idx {
			idx[j] = (i*batch + j) % n
		}
		_, _, err := tr.TrainStep(ds, idx)
		return err
	}, machine.FLOPs(), nil
}

// The pools hold 20 batches of synthetic examples, as the PyTorch scripts do.
const poolBatches = 20

func setupTextCNN(int) (func(int) error, int64, error) {
	// The seed preset is the model tools/pytorch/textcnn_bench.py times
	// (vocabulary 10000, maxlen 100), not the Kim default.
	cfg := textcnn.SeedConfig()
	m, err := textcnn.New(cfg)
	if err != nil {
		return nil, 0, err
	}
	n := 32 * poolBatches
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]float32, n*cfg.MaxLen)
	for i := range ids {
		ids[i] = float32(rng.IntN(cfg.NumWords))
	}
	ds, err := dataset.NewTensors([][]float32{ids}, [][]int{{cfg.MaxLen}}, alternating(n), nil)
	if err != nil {
		return nil, 0, err
	}
	return trainer(m, train.Config{Epochs: 1, Batch: 32}, ds, 32)
}

func setupLSTM(int) (func(int) error, int64, error) {
	cfg := lstm.DefaultConfig()
	cfg.MaxLen = 100
	m, err := lstm.New(cfg)
	if err != nil {
		return nil, 0, err
	}
	ds, err := fullTexts(cfg.MaxLen, cfg.NumWords)
	if err != nil {
		return nil, 0, err
	}
	return trainer(m, train.Config{Epochs: 1, Batch: 32}, ds, 32)
}

func setupConvNet(int) (func(int) error, int64, error) {
	cfg := convnet.DefaultConfig()
	m, err := convnet.New(cfg)
	if err != nil {
		return nil, 0, err
	}
	n := 32 * poolBatches
	size := cfg.Channels * cfg.Height * cfg.Width
	rng := rand.New(rand.NewPCG(1, 2))
	images := make([]float32, n*size)
	for i := range images {
		images[i] = float32(rng.NormFloat64())
	}
	labels := make([]float32, n)
	for i := range labels {
		labels[i] = float32(rng.IntN(cfg.Classes))
	}
	ds, err := dataset.NewTensors([][]float32{images}, [][]int{{cfg.Channels, cfg.Height, cfg.Width}}, labels, nil)
	if err != nil {
		return nil, 0, err
	}
	tc := convnet.DefaultTraining()
	tc.Epochs = 1
	return trainer(m, tc, ds, 32)
}

func setupTransformer(int) (func(int) error, int64, error) {
	// The default encoder (tools/pytorch/transformer_bench.py builds the
	// same one) at transformerMaxLen.
	cfg := transformer.DefaultConfig()
	cfg.MaxLen = transformerMaxLen
	m, err := transformer.New(cfg)
	if err != nil {
		return nil, 0, err
	}
	ds, err := fullTexts(cfg.MaxLen, cfg.VocabSize)
	if err != nil {
		return nil, 0, err
	}
	tc := cfg.Training()
	tc.Epochs = 1
	return trainer(m, tc, ds, 32)
}

func setupMF(int) (func(int) error, int64, error) {
	cfg := mf.DefaultConfig(mfUsers, mfItems)
	cfg.GlobalMean = 3.5
	m, err := mf.New(cfg)
	if err != nil {
		return nil, 0, err
	}
	n := mfBatch * poolBatches
	rng := rand.New(rand.NewPCG(1, 2))
	users, items, ratings := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range users {
		users[i] = float32(rng.IntN(mfUsers))
		items[i] = float32(rng.IntN(mfItems))
		ratings[i] = float32(1 + rng.IntN(5))
	}
	ds, err := dataset.NewTensors([][]float32{users, items}, [][]int{{1}, {1}}, ratings, nil)
	if err != nil {
		return nil, 0, err
	}
	tc := mf.DefaultTraining()
	tc.Epochs, tc.Batch, tc.Monitor = 1, mfBatch, ""
	return trainer(m, tc, ds, mfBatch)
}

// fullTexts is a pool of batches of texts of maxLen random ids below
// vocab, labelled alternately: no padding (id 0), the most expensive case.
func fullTexts(maxLen, vocab int) (dataset.Dataset, error) {
	n := 32 * poolBatches
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]float32, n*maxLen)
	for i := range ids {
		ids[i] = float32(1 + rng.IntN(vocab-1))
	}
	return dataset.NewTensors([][]float32{ids}, [][]int{{maxLen}}, alternating(n), nil)
}

// alternating is n labels 0, 1, 0, 1, ….
func alternating(n int) []float32 {
	l := make([]float32, n)
	for i := range l {
		l[i] = float32(i % 2)
	}
	return l
}
