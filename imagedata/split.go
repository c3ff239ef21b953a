package imagedata

import (
	"cmp"
	"math"
	"slices"
)

// stratifiedSplit splits the indices 0..len(labels)−1 into len(fractions)
// parts, class by class. Part k>0 gets round(N·fractions[k]) images in
// all, N the number of images: ⌊n·fractions[k]⌋ of each class of n, and
// one more for the classes with the largest remainders (ties to the lower
// class), so a small data set still gets a validation set and every class
// keeps its share within one image; part 0 gets the rest, never less than
// one image of a class. (Package data's text splits round class by class
// instead, which can leave a part empty when classes are small.) Which
// images go where is drawn by the generator data.SplitText uses, seeded by
// seed; images are identified by their index in the data set's own order
// (file order for IDX and CIFAR-10, sorted paths for folders), which does
// not depend on the machine. Each part is returned in ascending order.
func stratifiedSplit(labels []int, numClasses int, fractions []float64, seed uint64) [][]int {
	byClass := make([][]int, numClasses)
	for i, l := range labels {
		byClass[l] = append(byClass[l], i)
	}
	// sizes[c][k]: how many images of class c go to part k.
	sizes := make([][]int, numClasses)
	rest := make([]int, numClasses)
	for c, class := range byClass {
		sizes[c] = make([]int, len(fractions))
		rest[c] = len(class)
	}
	for k := 1; k < len(fractions); k++ {
		want := int(math.Round(float64(len(labels)) * fractions[k]))
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
	rng := &splitMix{state: seed}
	parts := make([][]int, len(fractions))
	for k := range parts {
		parts[k] = []int{}
	}
	for c, class := range byClass {
		rng.shuffle(class)
		sizes[c][0] = rest[c]
		at := 0
		for k, n := range sizes[c] {
			parts[k] = append(parts[k], class[at:at+n]...)
			at += n
		}
	}
	for _, p := range parts {
		slices.Sort(p)
	}
	return parts
}

// splitMix is SplitMix64: a generator whose output this package controls,
// because a split and an augmentation are part of a run's identity and must
// not change with a Go release.
type splitMix struct{ state uint64 }

func (r *splitMix) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	return mix64(r.state)
}

// mix64 is SplitMix64's finalizer, a bijective hash of 64 bits.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// below returns a uniform integer in [0, n) by rejection sampling.
func (r *splitMix) below(n uint64) uint64 {
	limit := math.MaxUint64 - math.MaxUint64%n
	for {
		if v := r.next(); v < limit {
			return v % n
		}
	}
}

// uniform returns a uniform float64 in [lo, hi).
func (r *splitMix) uniform(lo, hi float64) float64 {
	return lo + (hi-lo)*float64(r.next()>>11)/(1<<53)
}

// shuffle is a Fisher–Yates shuffle.
func (r *splitMix) shuffle(s []int) {
	for i := len(s) - 1; i > 0; i-- {
		j := int(r.below(uint64(i + 1)))
		s[i], s[j] = s[j], s[i]
	}
}
