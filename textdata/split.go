package textdata

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tapeml/tapeml/dataset"
)

// SplitText validates examples and splits them into train, validation and
// test sets, stratified by label: each class is split 80/10/10 on its own
// (validation and test sizes rounded to the nearest integer, train gets the
// rest). The result depends only on the examples and seed, not on their
// order: examples are sorted by Source first. Each split is then shuffled
// with the same seed so that classes are interleaved.
//
// classes names the labels (Label indexes it); Positive is set as described
// at TextCorpus.
func SplitText(classes []string, examples []TextExample, seed uint64) (*TextCorpus, error) {
	return splitGiven(classes, examples, nil, nil, seed)
}

// splitGiven builds a corpus from the splits a data set ships, carving a
// missing validation or test split out of train: 1/9 of it for one (so a
// data set shipping equal train and test halves, like aclImdb, ends up
// 44/6/50: 22,222 / 2,778 / 25,000 reviews), 80/10/10 for both.
func splitGiven(classes []string, train, val, test []TextExample, seed uint64) (*TextCorpus, error) {
	given := test != nil
	all := slices.Concat(train, val, test)
	if err := checkExamples(classes, all); err != nil {
		return nil, err
	}
	if len(train) == 0 {
		return nil, errors.New("the train split is empty")
	}
	rng := dataset.NewSplitMix(seed)
	switch {
	case val == nil && test == nil:
		parts := stratified(train, len(classes), []float64{0.8, 0.1, 0.1}, rng)
		train, val, test = parts[0], parts[1], parts[2]
	case val == nil:
		parts := stratified(train, len(classes), []float64{8.0 / 9, 1.0 / 9}, rng)
		train, val = parts[0], parts[1]
	case test == nil:
		parts := stratified(train, len(classes), []float64{8.0 / 9, 1.0 / 9}, rng)
		train, test = parts[0], parts[1]
	default:
		train = sortedBySource(train)
	}
	c := newCorpus(classes, train, sortedBySource(val), sortedBySource(test), rng)
	c.TestGiven = given
	return c, nil
}

func newCorpus(classes []string, train, val, test []TextExample, rng *dataset.SplitMix) *TextCorpus {
	for _, part := range [][]TextExample{train, val, test} {
		rng.Shuffle(len(part), func(i, j int) { part[i], part[j] = part[j], part[i] })
	}
	positive := -1
	if len(classes) == 2 {
		positive = 1
	}
	return &TextCorpus{Classes: slices.Clone(classes), Positive: positive, Train: train, Val: val, Test: test}
}

func checkExamples(classes []string, examples []TextExample) error {
	if len(classes) < 2 {
		return fmt.Errorf("found %d class %q; a classifier needs at least two", len(classes), classes)
	}
	if len(examples) == 0 {
		return errors.New("empty corpus: no examples")
	}
	counts := make([]int, len(classes))
	for _, ex := range examples {
		if ex.Label < 0 || ex.Label >= len(classes) {
			return fmt.Errorf("%s: label %d out of range [0, %d)", ex.Source, ex.Label, len(classes))
		}
		counts[ex.Label]++
	}
	var empty []string
	for i, n := range counts {
		if n == 0 {
			empty = append(empty, fmt.Sprintf("%q", classes[i]))
		}
	}
	if len(empty) > 0 {
		return fmt.Errorf("class %s has no examples", strings.Join(empty, ", "))
	}
	return nil
}

// stratified splits examples by label into len(fractions) parts
// (dataset.Stratify, each class rounded on its own), after sorting them by
// Source so that the split does not depend on their order.
func stratified(examples []TextExample, numClasses int, fractions []float64, rng *dataset.SplitMix) [][]TextExample {
	sorted := sortedBySource(examples)
	labels := make([]int, len(sorted))
	for i, ex := range sorted {
		labels[i] = ex.Label
	}
	idx := dataset.Stratify(labels, numClasses, fractions, rng, dataset.PerClass)
	parts := make([][]TextExample, len(idx))
	for k, p := range idx {
		parts[k] = make([]TextExample, len(p))
		for j, i := range p {
			parts[k][j] = sorted[i]
		}
	}
	return parts
}

func sortedBySource(examples []TextExample) []TextExample {
	if examples == nil {
		return []TextExample{}
	}
	out := slices.Clone(examples)
	slices.SortStableFunc(out, func(a, b TextExample) int { return strings.Compare(a.Source, b.Source) })
	return out
}
