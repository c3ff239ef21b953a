package repo

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/metrics"
)

// CompareOptions says what Compare scores two versions on.
type CompareOptions struct {
	// Data is the data whose test split both are scored on; "" means the
	// first version's run data.
	Data string
	// Show is how many of the examples they disagree on most to return.
	Show int
}

// Comparison is two versions scored on the same examples.
type Comparison struct {
	A Scored `json:"a"`
	B Scored `json:"b"`
	// Data and N are the data and the number of examples both were
	// scored on.
	Data string `json:"data"`
	N    int    `json:"n"`
	// Resplit is set when the second version was trained with another
	// seed: its predictions are compared on the first one's split of Data
	// (seed SplitSeed), so that both see the same examples in the same
	// order. Unless Data ships its test split, those may include examples
	// it was trained on.
	Resplit   bool   `json:"resplit"`
	SplitSeed uint64 `json:"split_seed"`
	// Classifiers only: Classes, how many predictions agree and the rate,
	// each class's scores under both, and the examples they disagree on
	// most (up to CompareOptions.Show), by total-variation distance.
	Classes   []string       `json:"classes,omitempty"`
	Agree     int            `json:"agree"`
	Agreement float64        `json:"agreement"`
	PerClass  []ClassChange  `json:"per_class,omitempty"`
	Disagree  []Disagreement `json:"disagree,omitempty"`
}

// Scored is one version's side of a comparison.
type Scored struct {
	Name string `json:"name"`
	// Metrics are the version's scores on its own split of the data, as
	// `tapeml eval --data` reports them.
	Metrics []Metric `json:"metrics"`
	Seed    uint64   `json:"seed"`
	// OnFirstSplit, for a second version trained with another seed, are
	// its scores on the first version's split: the examples the agreement
	// counts over.
	OnFirstSplit []Metric `json:"on_first_split,omitempty"`
}

// ClassChange is one class's recall and F1 under A and B.
type ClassChange struct {
	Class   string  `json:"class"`
	Support int     `json:"support"`
	RecallA float64 `json:"recall_a"`
	RecallB float64 `json:"recall_b"`
	F1A     float64 `json:"f1_a"`
	F1B     float64 `json:"f1_b"`
}

// Disagreement is an example whose predictions differ most.
type Disagreement struct {
	Index    int     `json:"index"`            // in the test split, as evaluation orders it
	Source   string  `json:"source,omitempty"` // where the example came from, when the data says
	True     string  `json:"true"`             // the example's class
	A        string  `json:"a"`                // each version's predicted class
	B        string  `json:"b"`
	PA       float64 `json:"pa"`
	PB       float64 `json:"pb"`
	Distance float64 `json:"distance"` // total variation between the two distributions, in [0, 1]
}

// Compare scores versions a and b (loaded models) on the test split of the
// same data, as `tapeml eval` does each, and for classifiers counts how
// often their predictions agree. It works through the runtime's generic
// evaluation (EvaluateRunData), whatever the kind; recommenders get the
// metrics side by side.
func Compare(ctx context.Context, a, b *tapeml.Model, nameA, nameB string, opt CompareOptions) (*Comparison, error) {
	seedA, seedB := uint64(a.Meta().RNG.Seed), uint64(b.Meta().RNG.Seed)
	ra, err := a.EvaluateRunData(ctx, tapeml.EvalOptions{Data: opt.Data})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", nameA, err)
	}
	data := opt.Data
	if data == "" {
		data = ra.Data // b is scored on a's data, not its own
	}
	eb := tapeml.EvalOptions{Data: data}
	cmpn := &Comparison{Data: ra.Data, N: ra.N, SplitSeed: seedA}
	if seedB != seedA {
		eb.SplitSeed, cmpn.Resplit = &seedA, true
	}
	rb, err := b.EvaluateRunData(ctx, eb)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", nameB, err)
	}
	cmpn.A = Scored{Name: nameA, Metrics: named(ra.Metrics), Seed: seedA}
	cmpn.B = Scored{Name: nameB, Metrics: named(rb.Metrics), Seed: seedB}
	if cmpn.Resplit {
		// Its own split too, for the metrics eval reports (a split that
		// data ships is still shuffled by the seed, and a mean's rounding
		// follows the order).
		own, err := b.EvaluateRunData(ctx, tapeml.EvalOptions{Data: data})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", nameB, err)
		}
		cmpn.B.Metrics, cmpn.B.OnFirstSplit = named(own.Metrics), cmpn.B.Metrics
	}
	if ra.N != rb.N {
		return nil, fmt.Errorf("%s scored %d examples of %s and %s %d: not the same test split", nameA, ra.N, ra.Data, nameB, rb.N)
	}
	if ra.Probs == nil || rb.Probs == nil {
		return cmpn, nil // not classifiers, or NaN outputs: metrics only
	}
	if !slices.Equal(ra.Classes, rb.Classes) || !slices.Equal(ra.Labels, rb.Labels) || !slices.Equal(ra.Sources, rb.Sources) {
		return nil, fmt.Errorf("%s and %s were not scored on the same examples (classes %v and %v)", nameA, nameB, ra.Classes, rb.Classes)
	}
	k := len(ra.Classes)
	cmpn.Classes = ra.Classes
	for i := range ra.N {
		pa, pb := ra.Probs[i*k:(i+1)*k], rb.Probs[i*k:(i+1)*k]
		ca, cb := argmax(pa), argmax(pb)
		if ca == cb {
			cmpn.Agree++
			continue
		}
		var tv float64
		for j := range k {
			tv += math.Abs(float64(pa[j]) - float64(pb[j]))
		}
		var src string
		if len(ra.Sources) == ra.N {
			src = ra.Sources[i]
		}
		cmpn.Disagree = append(cmpn.Disagree, Disagreement{Index: i, Source: src, True: ra.Classes[ra.Labels[i]],
			A: ra.Classes[ca], B: ra.Classes[cb], PA: float64(pa[ca]), PB: float64(pb[cb]), Distance: tv / 2})
	}
	if ra.N > 0 {
		cmpn.Agreement = float64(cmpn.Agree) / float64(ra.N)
	}
	slices.SortStableFunc(cmpn.Disagree, func(x, y Disagreement) int { return cmp.Compare(y.Distance, x.Distance) })
	cmpn.Disagree = cmpn.Disagree[:min(len(cmpn.Disagree), max(opt.Show, 0))]
	if ra.Confusion != nil && rb.Confusion != nil {
		repA, repB := ra.Confusion.Report(), rb.Confusion.Report()
		for j, c := range ra.Classes {
			cmpn.PerClass = append(cmpn.PerClass, ClassChange{Class: c, Support: repA.Classes[j].Support,
				RecallA: repA.Classes[j].Recall, RecallB: repB.Classes[j].Recall, F1A: repA.Classes[j].F1, F1B: repB.Classes[j].F1})
		}
	}
	return cmpn, nil
}

func named(ms []metrics.Named) []Metric {
	out := make([]Metric, len(ms))
	for i, m := range ms {
		out[i] = Metric{Name: m.Name, Value: finite(m.Value)}
	}
	return out
}

func argmax(p []float32) int {
	best := 0
	for j, v := range p {
		if v > p[best] {
			best = j
		}
	}
	return best
}
