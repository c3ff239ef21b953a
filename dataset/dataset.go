package dataset

import (
	"fmt"
)

// Dataset is a fixed-size, indexable collection of examples: token
// sequences, images or (user, item, rating) triples alike. Each example has
// one value of fixed shape per model input, and a target.
type Dataset interface {
	// Len is the number of examples.
	Len() int
	// Shapes returns the per-example shape of each input and of the target.
	Shapes() (inputs [][]int, target []int)
	// Gather writes the examples at idx, in order, into inputs (one flat
	// buffer per model input, len(idx) rows of its shape, row-major) and
	// targets (len(idx) rows of the target shape).
	Gather(idx []int, inputs [][]float32, targets []float32) error
}

// Tensors is an in-memory Dataset: row i of every column is example i.
type Tensors struct {
	Inputs      [][]float32 // one flat column per input: N × prod(InputShapes[k])
	InputShapes [][]int     // per-example shape of each input
	Targets     []float32   // N × prod(TargetShape)
	TargetShape []int       // per-example shape of the target; nil or [] for a scalar
}

// NewTensors checks that every column holds the same number of rows.
func NewTensors(inputs [][]float32, inputShapes [][]int, targets []float32, targetShape []int) (*Tensors, error) {
	t := &Tensors{Inputs: inputs, InputShapes: inputShapes, Targets: targets, TargetShape: targetShape}
	if len(inputs) != len(inputShapes) {
		return nil, fmt.Errorf("dataset: %d input columns but %d input shapes", len(inputs), len(inputShapes))
	}
	n := t.Len()
	for k, col := range inputs {
		if len(col) != n*size(inputShapes[k]) {
			return nil, fmt.Errorf("dataset: input %d holds %d values, expected %d rows of %v", k, len(col), n, inputShapes[k])
		}
	}
	return t, nil
}

func size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Len is the number of examples.
func (t *Tensors) Len() int { return len(t.Targets) / size(t.TargetShape) }

// Shapes returns the per-example shapes.
func (t *Tensors) Shapes() ([][]int, []int) { return t.InputShapes, t.TargetShape }

// Gather copies the rows at idx.
func (t *Tensors) Gather(idx []int, inputs [][]float32, targets []float32) error {
	n := t.Len()
	for k, col := range t.Inputs {
		w := size(t.InputShapes[k])
		dst := inputs[k]
		for r, i := range idx {
			if i < 0 || i >= n {
				return fmt.Errorf("dataset: example %d out of range [0, %d)", i, n)
			}
			copy(dst[r*w:(r+1)*w], col[i*w:(i+1)*w])
		}
	}
	w := size(t.TargetShape)
	dst := targets
	for r, i := range idx {
		copy(dst[r*w:(r+1)*w], t.Targets[i*w:(i+1)*w])
	}
	return nil
}

// Subset is the examples of a dataset at the given indices.
type Subset struct {
	Dataset
	Index []int
}

// Len is the number of selected examples.
func (s Subset) Len() int { return len(s.Index) }

// Gather maps idx through the selection.
func (s Subset) Gather(idx []int, inputs [][]float32, targets []float32) error {
	mapped := make([]int, len(idx))
	for i, j := range idx {
		mapped[i] = s.Index[j]
	}
	return s.Dataset.Gather(mapped, inputs, targets)
}

// Head gathers the first n examples of ds (all of them when it has
// fewer): its inputs and targets, flat, and how many there are.
func Head(ds Dataset, n int) (inputs [][]float32, targets []float32, rows int, err error) {
	n = min(n, ds.Len())
	inShapes, targetShape := ds.Shapes()
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	inputs = make([][]float32, len(inShapes))
	for k, s := range inShapes {
		inputs[k] = make([]float32, n*size(s))
	}
	targets = make([]float32, n*size(targetShape))
	if err := ds.Gather(idx, inputs, targets); err != nil {
		return nil, nil, 0, err
	}
	return inputs, targets, n, nil
}
