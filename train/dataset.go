package train

import (
	"math/rand/v2"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/dataset"
)

// batches splits 0..n−1 into consecutive batches of at most size; the last
// may be partial.
func batches(order []int, size int) [][]int {
	var out [][]int
	for start := 0; start < len(order); start += size {
		out = append(out, order[start:min(start+size, len(order))])
	}
	return out
}

// epochOrder is the shuffled order of epoch e: a pure function of the seed
// and the epoch, so a resumed run visits examples exactly as an
// uninterrupted one.
func epochOrder(n int, seed uint64, epoch int) []int {
	return rand.New(rand.NewPCG(seed, uint64(epoch)+0x5eed)).Perm(n)
}

func sequence(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// buffers holds one batch's input and target tensors for a batch size.
type buffers struct {
	inputs  []*tensor.Dense
	flat    [][]float32 // the inputs' backing slices
	targets *tensor.Dense
}

func newBuffers(ds dataset.Dataset, n int) buffers {
	inShapes, tShape := ds.Shapes()
	b := buffers{}
	for _, s := range inShapes {
		t := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(append([]int{n}, s...)...))
		b.inputs = append(b.inputs, t)
		b.flat = append(b.flat, t.Float32s())
	}
	b.targets = tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(append([]int{n}, tShape...)...))
	return b
}
