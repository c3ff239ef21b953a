package dataset

import (
	"cmp"
	"math"
	"slices"
)

// SplitMix is SplitMix64. A data set's split and a run's augmentation are
// part of its identity (a checkpoint's test accuracy is only comparable on
// the same test set), so they draw from a generator whose output this
// package controls rather than one whose stream a Go release could change.
// Text and image data split with it alike.
type SplitMix struct{ State uint64 }

// NewSplitMix returns the generator seeded with seed.
func NewSplitMix(seed uint64) *SplitMix { return &SplitMix{State: seed} }

// Next returns the next 64 random bits.
func (r *SplitMix) Next() uint64 {
	r.State += 0x9e3779b97f4a7c15
	return Mix64(r.State)
}

// Mix64 is SplitMix64's finalizer, a bijective hash of 64 bits.
func Mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Below returns a uniform integer in [0, n) by rejection sampling.
func (r *SplitMix) Below(n uint64) uint64 {
	limit := math.MaxUint64 - math.MaxUint64%n
	for {
		if v := r.Next(); v < limit {
			return v % n
		}
	}
}

// Uniform returns a uniform float64 in [lo, hi).
func (r *SplitMix) Uniform(lo, hi float64) float64 {
	return lo + (hi-lo)*float64(r.Next()>>11)/(1<<53)
}

// Shuffle is a Fisher–Yates shuffle of n elements.
func (r *SplitMix) Shuffle(n int, swap func(i, j int)) {
	for i := n - 1; i > 0; i-- {
		swap(i, int(r.Below(uint64(i+1))))
	}
}

// Rounding says how a stratified split turns fractions into counts.
type Rounding int

const (
	// PerClass rounds each class's share on its own: part k>0 gets
	// round(n·fractions[k]) of each class of n, part 0 the rest, never
	// less than one example while the class has one. (Text corpora.)
	PerClass Rounding = iota
	// Apportioned rounds over the whole set: part k>0 gets
	// round(N·fractions[k]) examples in all, ⌊n·fractions[k]⌋ of each
	// class and one more for the classes with the largest remainders
	// (ties to the lower class), so a small data set still gets a
	// validation set and every class keeps its share within one example;
	// part 0 gets the rest, never less than one example of a class.
	// (Image sets.)
	Apportioned
)

// Stratify splits examples 0..len(labels)−1 into len(fractions) parts,
// class by class, as rounding says. Each class's members (in the order
// given) are shuffled by rng, class after class, and dealt out in that
// order; parts list them class by class.
func Stratify(labels []int, numClasses int, fractions []float64, rng *SplitMix, rounding Rounding) [][]int {
	byClass := make([][]int, numClasses)
	for i, l := range labels {
		byClass[l] = append(byClass[l], i)
	}
	var sizes [][]int
	if rounding == PerClass {
		sizes = perClassSizes(byClass, fractions)
	} else {
		sizes = apportionedSizes(byClass, len(labels), fractions)
	}
	parts := make([][]int, len(fractions))
	for k := range parts {
		parts[k] = []int{} // an empty split is empty, not absent
	}
	for c, class := range byClass {
		rng.Shuffle(len(class), func(i, j int) { class[i], class[j] = class[j], class[i] })
		at := 0
		for k, n := range sizes[c] {
			parts[k] = append(parts[k], class[at:at+n]...)
			at += n
		}
	}
	return parts
}

func perClassSizes(byClass [][]int, fractions []float64) [][]int {
	sizes := make([][]int, len(byClass))
	for c, class := range byClass {
		s := make([]int, len(fractions))
		rest := len(class)
		for k := 1; k < len(fractions); k++ {
			s[k] = min(rest, int(math.Round(float64(len(class))*fractions[k])))
			rest -= s[k]
		}
		for k := len(fractions) - 1; rest < 1 && len(class) > 0 && k > 0; k-- {
			if s[k] > 0 {
				s[k]--
				rest++
			}
		}
		s[0] = rest
		sizes[c] = s
	}
	return sizes
}

func apportionedSizes(byClass [][]int, total int, fractions []float64) [][]int {
	numClasses := len(byClass)
	sizes := make([][]int, numClasses)
	rest := make([]int, numClasses)
	for c, class := range byClass {
		sizes[c] = make([]int, len(fractions))
		rest[c] = len(class)
	}
	for k := 1; k < len(fractions); k++ {
		want := int(math.Round(float64(total) * fractions[k]))
		rems := make([]float64, numClasses)
		for c, class := range byClass {
			exact := float64(len(class)) * fractions[k]
			sizes[c][k] = min(int(exact), max(rest[c]-1, 0))
			rems[c] = exact - float64(sizes[c][k])
			want -= sizes[c][k]
		}
		order := make([]int, numClasses)
		for c := range order {
			order[c] = c
		}
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rems[b], rems[a]) })
		for _, c := range order {
			if want <= 0 {
				break
			}
			if rest[c]-sizes[c][k] > 1 {
				sizes[c][k]++
				want--
			}
		}
		for c := range byClass {
			rest[c] -= sizes[c][k]
		}
	}
	for c := range byClass {
		sizes[c][0] = rest[c]
	}
	return sizes
}
