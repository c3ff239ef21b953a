package textdata

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
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
	all := slices.Concat(train, val, test)
	if err := checkExamples(classes, all); err != nil {
		return nil, err
	}
	if len(train) == 0 {
		return nil, errors.New("the train split is empty")
	}
	rng := newSplitRNG(seed)
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
	return newCorpus(classes, train, sortedBySource(val), sortedBySource(test), rng), nil
}

func newCorpus(classes []string, train, val, test []TextExample, rng *splitRNG) *TextCorpus {
	for _, part := range [][]TextExample{train, val, test} {
		rng.shuffle(len(part), func(i, j int) { part[i], part[j] = part[j], part[i] })
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

// stratified splits examples by label into len(fractions) parts. Part k>0
// gets round(n*fractions[k]) of each class of n examples, part 0 the rest,
// never less than one example while the class has one.
func stratified(examples []TextExample, numClasses int, fractions []float64, rng *splitRNG) [][]TextExample {
	byClass := make([][]TextExample, numClasses)
	for _, ex := range sortedBySource(examples) {
		byClass[ex.Label] = append(byClass[ex.Label], ex)
	}
	parts := make([][]TextExample, len(fractions))
	for k := range parts {
		parts[k] = []TextExample{} // an empty split is empty, not absent
	}
	for _, class := range byClass {
		rng.shuffle(len(class), func(i, j int) { class[i], class[j] = class[j], class[i] })
		sizes := make([]int, len(fractions))
		rest := len(class)
		for k := 1; k < len(fractions); k++ {
			sizes[k] = min(rest, int(math.Round(float64(len(class))*fractions[k])))
			rest -= sizes[k]
		}
		for k := len(fractions) - 1; rest < 1 && len(class) > 0 && k > 0; k-- {
			if sizes[k] > 0 {
				sizes[k]--
				rest++
			}
		}
		sizes[0] = rest
		at := 0
		for k, n := range sizes {
			parts[k] = append(parts[k], class[at:at+n]...)
			at += n
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

// splitRNG is SplitMix64. The split is part of a data set's identity (a
// checkpoint's test accuracy is only comparable on the same test set), so
// it uses a generator whose output this package controls rather than one
// whose stream a Go release could change.
type splitRNG struct{ state uint64 }

func newSplitRNG(seed uint64) *splitRNG { return &splitRNG{state: seed} }

func (r *splitRNG) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// below returns a uniform integer in [0, n) by rejection sampling.
func (r *splitRNG) below(n uint64) uint64 {
	limit := math.MaxUint64 - math.MaxUint64%n
	for {
		if v := r.next(); v < limit {
			return v % n
		}
	}
}

// shuffle is a Fisher–Yates shuffle.
func (r *splitRNG) shuffle(n int, swap func(i, j int)) {
	for i := n - 1; i > 0; i-- {
		swap(i, int(r.below(uint64(i+1))))
	}
}
