package recsys

import (
	"fmt"
	"math"
	"slices"
)

// Interactions turns ratings into implicit feedback: each rating of at
// least threshold becomes an interaction of weight 1 (the user liked the
// item), the others are dropped. The id maps are shared with d, so users
// left without interactions keep their indices and are unknown to a model
// trained on the result.
func Interactions(d *Dataset, threshold float64) (*Dataset, error) {
	if d.Implicit {
		return nil, fmt.Errorf("%s: already interactions: a threshold applies to ratings", d.Source)
	}
	if math.IsNaN(threshold) || math.IsInf(threshold, 0) {
		return nil, fmt.Errorf("implicit threshold %v: want a rating", threshold)
	}
	var out []Rating
	for _, r := range d.Ratings {
		if float64(r.Value) >= threshold {
			r.Value = 1
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no rating reaches the implicit threshold %v", d.Source, threshold)
	}
	i := d.With(out)
	i.Implicit = true
	return i, nil
}

// TimeSplit holds out the latest testFraction of the ratings by timestamp
// (a global cut-off: training is the past, testing the future; among equal
// times the later in rs counts as later). Users whose activity all falls
// after the cut-off are unknown in training, as new users are. It needs
// timestamps: ratings all at time 0 are an error. Both parts keep the
// input order.
func TimeSplit(rs []Rating, testFraction float64) (train, test []Rating, err error) {
	if !(testFraction > 0 && testFraction < 1) {
		return nil, nil, fmt.Errorf("split: test fraction %v: expected a value in (0, 1)", testFraction)
	}
	if len(rs) < 2 {
		return nil, nil, fmt.Errorf("split: %d ratings cannot be split in two", len(rs))
	}
	if !slices.ContainsFunc(rs, func(r Rating) bool { return r.Time != 0 }) {
		return nil, nil, fmt.Errorf("split: a time split needs timestamps, and the data have none")
	}
	order := make([]int32, len(rs))
	for k := range order {
		order[k] = int32(k)
	}
	slices.SortStableFunc(order, func(a, b int32) int {
		switch {
		case rs[a].Time < rs[b].Time:
			return -1
		case rs[a].Time > rs[b].Time:
			return 1
		}
		return 0
	})
	nTest := min(max(int(float64(len(rs))*testFraction+0.5), 1), len(rs)-1)
	held := make([]bool, len(rs))
	for _, k := range order[len(rs)-nTest:] {
		held[k] = true
	}
	train, test = make([]Rating, 0, len(rs)-nTest), make([]Rating, 0, nTest)
	for k, r := range rs {
		if held[k] {
			test = append(test, r)
		} else {
			train = append(train, r)
		}
	}
	return train, test, nil
}
