package explain

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/internal/core"
)

// Layers lists a network's layers, input side first: the names its
// parameters share before their last dot ("conv", "fc.0", "layer1.1").
// Nil for recommenders that are not networks.
func Layers(tm *tapeml.Model) []string {
	params := unwrap(tm).c.Loaded.Params
	if params == nil {
		return nil
	}
	var out []string
	for _, p := range params.List() {
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
func Randomized(tm *tapeml.Model, layers int, seed uint64) (*tapeml.Model, error) {
	m := unwrap(tm)
	if m.c.Run == nil {
		return nil, m.wrongKind("Randomized", "a network")
	}
	l := m.c.Loaded
	all := Layers(tm)
	if layers < 1 || layers > len(all) {
		return nil, fmt.Errorf("explain: Randomized: %d layers; the model has %d (%s)", layers, len(all), strings.Join(all, ", "))
	}
	top := all[len(all)-layers:]
	// The initializers draw from a stream seeded like training's; hashing
	// the seed keeps --seed 1 from redrawing a run's own initial weights
	// (training seed 1), which trained weights stay correlated with.
	mixed := seed*0x9e3779b97f4a7c15 + 0x2545f4914f6cdd1d
	mixed ^= mixed >> 31
	if mixed == trainingSeed(l.Checkpoint.Meta) {
		mixed++
	}
	fresh := graph.NewParams(tensor.Float32, mixed)
	if err := graph.Materialize(l.Network.Build, fresh); err != nil {
		return nil, fmt.Errorf("explain: Randomized: %w", err)
	}
	for _, p := range fresh.List() {
		layer := p.Name
		if i := strings.LastIndex(layer, "."); i > 0 {
			layer = layer[:i]
		}
		if slices.Contains(top, layer) {
			continue
		}
		old := l.Params.Get(p.Name)
		if old == nil || !slices.Equal(old.Shape(), p.Shape()) {
			return nil, fmt.Errorf("explain: Randomized: parameter %q does not match the model's", p.Name)
		}
		copy(p.Value.Float32s(), old.Value.Float32s())
	}
	rl := *l
	rl.Params = fresh
	run, err := core.NewRunner(rl.Network.Build, fresh, m.c.Run.MaxBatch(), 1)
	if err != nil {
		return nil, fmt.Errorf("explain: Randomized: %w", err)
	}
	c := &core.Model{Loaded: &rl, Run: run, Path: m.c.Path + " (top " + fmt.Sprint(layers) + " layers randomized)"}
	return core.Wrap(c).(*tapeml.Model), nil
}

// trainingSeed is the seed a checkpoint's training initialized its
// weights from (1, the default, when it does not say).
func trainingSeed(meta checkpoint.Meta) uint64 {
	var tc struct {
		Seed uint64 `json:"seed"`
	}
	if err := json.Unmarshal(meta.Optimizer, &tc); err != nil || tc.Seed == 0 {
		return 1
	}
	return tc.Seed
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
