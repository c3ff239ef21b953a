package synth

import (
	"math"
	"math/rand/v2"
	"slices"
)

// itemPicker draws the items a synthetic user rates (see Synthesize).
type itemPicker struct {
	c        Config
	logPop   []float64 // per item: log popularity weight
	itemBias []float64
	q        []float64 // [items, factors]
	qScale   float64   // standard deviation of each taste component

	keys  []draw      // Gumbel-top-k scratch, [items]
	alias *aliasTable // Rejection: proposals by popularity_i·exp(β·b_i)
	taken []bool      // Rejection: per item, chosen by the current user
}

// draw is an item with its Gumbel-perturbed log weight.
type draw struct {
	key  float64
	item int
}

func newItemPicker(c Config, logPop, itemBias, q []float64) *itemPicker {
	p := &itemPicker{c: c, logPop: logPop, itemBias: itemBias, q: q,
		qScale: c.TasteSD / math.Sqrt(float64(c.Factors)), keys: make([]draw, c.Items)}
	if c.Rejection {
		w := make([]float64, c.Items)
		for i := range w {
			w[i] = logPop[i] + c.Choosiness*itemBias[i]
		}
		top := slices.Max(w)
		for i := range w {
			w[i] = math.Exp(w[i] - top) // the largest is 1: no overflow
		}
		p.alias = newAliasTable(w)
		p.taken = make([]bool, c.Items)
	}
	return p
}

// dot is p_u·q_i.
func (p *itemPicker) dot(pu []float64, i int) float64 {
	f := p.c.Factors
	var dot float64
	for k, x := range p.q[i*f : (i+1)*f] {
		dot += x * pu[k]
	}
	return dot
}

// items returns n distinct items for the user with taste pu, in the order
// drawn. The slice is reused by the next call.
func (p *itemPicker) items(rng *rand.Rand, pu []float64, n int) []int {
	if p.alias == nil || 8*n > p.c.Items {
		return p.gumbelTopK(rng, pu, n)
	}
	return p.rejection(rng, pu, n)
}

// gumbelTopK ranks the whole catalogue: the n largest of log w + Gumbel
// noise are a weighted sample without replacement.
func (p *itemPicker) gumbelTopK(rng *rand.Rand, pu []float64, n int) []int {
	beta := p.c.Choosiness
	for i := range p.keys {
		g := -math.Log(-math.Log(1 - rng.Float64()))
		p.keys[i] = draw{key: p.logPop[i] + beta*(p.itemBias[i]+p.dot(pu, i)) + g, item: i}
	}
	slices.SortFunc(p.keys, func(a, b draw) int {
		switch {
		case a.key > b.key:
			return -1
		case a.key < b.key:
			return 1
		}
		return a.item - b.item
	})
	out := make([]int, n)
	for k := range out {
		out[k] = p.keys[k].item
	}
	return out
}

// rejection draws successively: propose by the user-independent weight,
// accept by the user's taste, redraw what is taken.
func (p *itemPicker) rejection(rng *rand.Rand, pu []float64, n int) []int {
	beta := p.c.Choosiness
	var norm float64
	for _, x := range pu {
		norm += x * x
	}
	bound := 4 * p.qScale * math.Sqrt(norm)
	out := make([]int, 0, n)
	for len(out) < n {
		i := p.alias.draw(rng)
		if p.taken[i] {
			continue
		}
		if beta > 0 && rng.Float64() >= math.Exp(beta*(p.dot(pu, i)-bound)) {
			continue
		}
		p.taken[i] = true
		out = append(out, i)
	}
	for _, i := range out {
		p.taken[i] = false
	}
	return out
}

// aliasTable samples index i with probability w_i/Σw in O(1) (Vose's
// alias method).
type aliasTable struct {
	prob  []float64
	alias []int32
}

// newAliasTable builds the table of non-negative weights w with a positive
// sum.
func newAliasTable(w []float64) *aliasTable {
	n := len(w)
	t := &aliasTable{prob: make([]float64, n), alias: make([]int32, n)}
	var sum float64
	for _, x := range w {
		sum += x
	}
	scaled := make([]float64, n)
	var small, large []int32
	for i, x := range w {
		scaled[i] = x * float64(n) / sum
		if scaled[i] < 1 {
			small = append(small, int32(i))
		} else {
			large = append(large, int32(i))
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		t.prob[s], t.alias[s] = scaled[s], l
		scaled[l] -= 1 - scaled[s]
		if scaled[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	// What is left is 1 up to rounding.
	for _, i := range large {
		t.prob[i], t.alias[i] = 1, i
	}
	for _, i := range small {
		t.prob[i], t.alias[i] = 1, i
	}
	return t
}

func (t *aliasTable) draw(rng *rand.Rand) int {
	i := rng.IntN(len(t.prob))
	if rng.Float64() < t.prob[i] {
		return i
	}
	return int(t.alias[i])
}
