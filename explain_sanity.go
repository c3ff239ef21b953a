package tapeml

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/graph"
)

// Layers lists a network's layers, input side first: the names its
// parameters share before their last dot ("conv", "fc.0", "layer1.1").
// Nil for recommenders that are not networks.
func (m *Model) Layers() []string {
	if m.loaded.Params == nil {
		return nil
	}
	var out []string
	for _, p := range m.loaded.Params.List() {
		l := p.Name
		if i := strings.LastIndex(l, "."); i > 0 {
			l = l[:i]
		}
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// Randomized returns a copy of the model whose top `layers` layers (see
// Layers) have fresh weights, drawn with the model's initializers from a
// stream derived from seed (never the training run's own initial
// weights); the other layers keep theirs. It is the model-randomization
// sanity check of Adebayo et al. (2018): an explanation that does not
// change when the weights that make the prediction are destroyed does not
// explain the model.
func (m *Model) Randomized(layers int, seed uint64) (*Model, error) {
	if m.run == nil {
		return nil, m.wrongKind("Randomized", "a network")
	}
	all := m.Layers()
	if layers < 1 || layers > len(all) {
		return nil, fmt.Errorf("tapeml: Randomized: %d layers; the model has %d (%s)", layers, len(all), strings.Join(all, ", "))
	}
	top := all[len(all)-layers:]
	// The initializers draw from a stream seeded like training's; hashing
	// the seed keeps --seed 1 from redrawing a run's own initial weights
	// (training seed 1), which trained weights stay correlated with.
	mixed := seed*0x9e3779b97f4a7c15 + 0x2545f4914f6cdd1d
	mixed ^= mixed >> 31
	if mixed == m.loaded.Training.Defaults().Seed {
		mixed++
	}
	fresh := graph.NewParams(tensor.Float32, mixed)
	if err := graph.Materialize(m.loaded.Network.Build, fresh); err != nil {
		return nil, fmt.Errorf("tapeml: Randomized: %w", err)
	}
	for _, p := range fresh.List() {
		l := p.Name
		if i := strings.LastIndex(l, "."); i > 0 {
			l = l[:i]
		}
		if slices.Contains(top, l) {
			continue
		}
		old := m.loaded.Params.Get(p.Name)
		if old == nil || !slices.Equal(old.Shape(), p.Shape()) {
			return nil, fmt.Errorf("tapeml: Randomized: parameter %q does not match the model's", p.Name)
		}
		copy(p.Value.Float32s(), old.Value.Float32s())
	}
	l := *m.loaded
	l.Params = fresh
	return newModel(&l, m.path+" (top "+fmt.Sprint(layers)+" layers randomized)", Options{MachinesPerBucket: 1}.withDefaults())
}

// Spearman is the Spearman rank correlation of a and b (ties get their
// mean rank); NaN when either is constant or the lengths differ or are
// below 2.
func Spearman(a, b []float64) float64 {
	if len(a) != len(b) || len(a) < 2 {
		return math.NaN()
	}
	ra, rb := ranks(a), ranks(b)
	var ma, mb float64
	for i := range ra {
		ma += ra[i]
		mb += rb[i]
	}
	ma /= float64(len(ra))
	mb /= float64(len(rb))
	var sab, saa, sbb float64
	for i := range ra {
		da, db := ra[i]-ma, rb[i]-mb
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	if saa == 0 || sbb == 0 {
		return math.NaN()
	}
	return sab / math.Sqrt(saa*sbb)
}

func ranks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(x, y int) bool { return v[idx[x]] < v[idx[y]] })
	r := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && v[idx[j+1]] == v[idx[i]] {
			j++
		}
		mean := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = mean
		}
		i = j + 1
	}
	return r
}
