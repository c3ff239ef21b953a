package imagedata

import (
	"slices"

	"github.com/tapeml/tapeml/dataset"
)

// stratifiedSplit splits the indices 0..len(labels)−1 into len(fractions)
// parts, class by class. Part k>0 gets round(N·fractions[k]) images in
// all, N the number of images: ⌊n·fractions[k]⌋ of each class of n, and
// one more for the classes with the largest remainders (ties to the lower
// class), so a small data set still gets a validation set and every class
// keeps its share within one image; part 0 gets the rest, never less than
// one image of a class. (Package data's text splits round class by class
// instead, which can leave a part empty when classes are small.) Which
// images go where is drawn by the generator text splits use
// (dataset.SplitMix), seeded by
// seed; images are identified by their index in the data set's own order
// (file order for IDX and CIFAR-10, sorted paths for folders), which does
// not depend on the machine. Each part is returned in ascending order.
func stratifiedSplit(labels []int, numClasses int, fractions []float64, seed uint64) [][]int {
	parts := dataset.Stratify(labels, numClasses, fractions, dataset.NewSplitMix(seed), dataset.Apportioned)
	for _, p := range parts {
		slices.Sort(p)
	}
	return parts
}
