package recsys

import (
	"fmt"
	"slices"

	"github.com/tapeml/tapeml/safetensors"
)

// Tensor names under which models and ratings are saved.
const (
	tensorRatingUser  = "ratings.user"
	tensorRatingItem  = "ratings.item"
	tensorRatingValue = "ratings.value"
	tensorRatingTime  = "ratings.time"
	tensorKNNStart    = "knn.neighbour_start"
	tensorKNNIndex    = "knn.neighbour_index"
	tensorKNNSim      = "knn.neighbour_similarity"
	tensorSVDUser     = "svd.user_factors"
	tensorSVDSigma    = "svd.singular_values"
	tensorSVDItem     = "svd.item_factors"
)

// RatingsTensors encodes ratings as four tensors of length len(rs):
// ratings.user and ratings.item (I64 dense indices), ratings.value (F32)
// and ratings.time (I64), for a checkpoint to carry its training ratings.
func RatingsTensors(rs []Rating) []safetensors.Tensor {
	users, items, times := make([]int64, len(rs)), make([]int64, len(rs)), make([]int64, len(rs))
	vals := make([]float32, len(rs))
	for k, r := range rs {
		users[k], items[k], vals[k], times[k] = int64(r.User), int64(r.Item), r.Value, r.Time
	}
	n := []int{len(rs)}
	return []safetensors.Tensor{
		safetensors.I64(tensorRatingUser, n, users), safetensors.I64(tensorRatingItem, n, items),
		safetensors.F32(tensorRatingValue, n, vals), safetensors.I64(tensorRatingTime, n, times),
	}
}

// RatingsFromTensors decodes RatingsTensors' output, checking every index
// against the id maps' sizes and every value against the scale (ratings)
// or as a weight (implicit: interactions); from names the file in errors.
func RatingsFromTensors(ts []safetensors.Tensor, users, items int, scale Scale, implicit bool, from string) ([]Rating, error) {
	get := func(name string) (safetensors.Tensor, error) {
		t, ok := safetensors.Lookup(ts, name)
		if !ok {
			return t, fmt.Errorf("%s: no tensor %q", from, name)
		}
		return t, nil
	}
	ints := func(name string) ([]int64, error) {
		t, err := get(name)
		if err != nil {
			return nil, err
		}
		v, err := t.Int64s()
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %w", from, name, err)
		}
		return v, nil
	}
	u, err := ints(tensorRatingUser)
	if err != nil {
		return nil, err
	}
	i, err := ints(tensorRatingItem)
	if err != nil {
		return nil, err
	}
	tm, err := ints(tensorRatingTime)
	if err != nil {
		return nil, err
	}
	vt, err := get(tensorRatingValue)
	if err != nil {
		return nil, err
	}
	v, err := vt.Float32s()
	if err != nil {
		return nil, fmt.Errorf("%s: %q: %w", from, tensorRatingValue, err)
	}
	if len(i) != len(u) || len(v) != len(u) || len(tm) != len(u) {
		return nil, fmt.Errorf("%s: ratings tensors differ in length: %d users, %d items, %d values, %d times", from, len(u), len(i), len(v), len(tm))
	}
	scale = scale.orDefault()
	rs := make([]Rating, len(u))
	for k := range rs {
		if u[k] < 0 || u[k] >= int64(users) || i[k] < 0 || i[k] >= int64(items) {
			return nil, fmt.Errorf("%s: rating %d: user %d, item %d outside %d users × %d items", from, k, u[k], i[k], users, items)
		}
		switch {
		case implicit && !validWeight(float64(v[k])):
			return nil, fmt.Errorf("%s: interaction %d: weight %v is not above 0 and at most %g", from, k, v[k], float64(MaxWeight))
		case !implicit && !scale.Contains(float64(v[k])):
			return nil, fmt.Errorf("%s: rating %d: %v is outside the scale [%v, %v]", from, k, v[k], scale.Min, scale.Max)
		}
		rs[k] = Rating{User: int32(u[k]), Item: int32(i[k]), Value: v[k], Time: tm[k]}
	}
	return rs, nil
}

// Tensors returns the neighbour lists: knn.neighbour_start (I64, one more
// than users or items), knn.neighbour_index (I64) and
// knn.neighbour_similarity (F32). Means and the baseline are recomputed
// from the training ratings on loading.
func (k *KNN) Tensors() []safetensors.Tensor {
	start := make([]int64, len(k.nbrStart))
	for j, s := range k.nbrStart {
		start[j] = int64(s)
	}
	idx := make([]int64, len(k.nbrIndex))
	for j, x := range k.nbrIndex {
		idx[j] = int64(x)
	}
	return []safetensors.Tensor{
		safetensors.I64(tensorKNNStart, []int{len(start)}, start),
		safetensors.I64(tensorKNNIndex, []int{len(idx)}, idx),
		safetensors.F32(tensorKNNSim, []int{len(k.nbrSim)}, k.nbrSim),
	}
}

// LoadKNN rebuilds a fitted KNN from its configuration, the training
// matrix it was fitted on and its Tensors, without recomputing the
// similarities. Lists that do not fit the matrix are an error naming from.
func LoadKNN(train *Matrix, scale Scale, cfg KNNConfig, ts []safetensors.Tensor, from string) (*KNN, error) {
	k, err := newKNN(train, scale, cfg)
	if err != nil {
		return nil, err
	}
	n := train.NumUsers
	if k.Config.Based == ItemBased {
		n = train.NumItems
	}
	lookup := func(name string) (safetensors.Tensor, error) {
		t, ok := safetensors.Lookup(ts, name)
		if !ok {
			return t, fmt.Errorf("%s: no tensor %q", from, name)
		}
		return t, nil
	}
	st, err := lookup(tensorKNNStart)
	if err != nil {
		return nil, err
	}
	start, err := st.Int64s()
	if err != nil {
		return nil, fmt.Errorf("%s: %q: %w", from, tensorKNNStart, err)
	}
	it, err := lookup(tensorKNNIndex)
	if err != nil {
		return nil, err
	}
	idx, err := it.Int64s()
	if err != nil {
		return nil, fmt.Errorf("%s: %q: %w", from, tensorKNNIndex, err)
	}
	simt, err := lookup(tensorKNNSim)
	if err != nil {
		return nil, err
	}
	sims, err := simt.Float32s()
	if err != nil {
		return nil, fmt.Errorf("%s: %q: %w", from, tensorKNNSim, err)
	}
	if len(start) != n+1 || start[0] != 0 || start[n] != int64(len(idx)) || len(sims) != len(idx) || !slices.IsSorted(start) {
		return nil, fmt.Errorf("%s: neighbour lists for %d entries with %d neighbours do not fit a %s-based model of %d", from, len(start)-1, len(idx), k.Config.Based, n)
	}
	k.nbrStart = make([]int, len(start))
	for j, s := range start {
		k.nbrStart[j] = int(s)
	}
	k.nbrIndex = make([]int32, len(idx))
	for j, x := range idx {
		if x < 0 || x >= int64(n) {
			return nil, fmt.Errorf("%s: neighbour index %d outside [0, %d)", from, x, n)
		}
		k.nbrIndex[j] = int32(x)
	}
	k.nbrSim = sims
	return k, nil
}

// Tensors returns the factorisation: svd.user_factors [users, k] (U),
// svd.singular_values [k] (σ) and svd.item_factors [items, k] (V). The
// centre is recomputed from the training ratings on loading.
func (s *SVD) Tensors() []safetensors.Tensor {
	f32 := func(x []float64) []float32 {
		out := make([]float32, len(x))
		for j, v := range x {
			out[j] = float32(v)
		}
		return out
	}
	return []safetensors.Tensor{
		safetensors.F32(tensorSVDUser, []int{s.Train.NumUsers, s.k}, f32(s.u)),
		safetensors.F32(tensorSVDSigma, []int{s.k}, f32(s.sigma)),
		safetensors.F32(tensorSVDItem, []int{s.Train.NumItems, s.k}, f32(s.v)),
	}
}

// LoadSVD rebuilds a fitted SVD from its configuration, the training
// matrix and its Tensors.
func LoadSVD(train *Matrix, scale Scale, cfg SVDConfig, ts []safetensors.Tensor, from string) (*SVD, error) {
	s, err := newSVD(train, scale, cfg)
	if err != nil {
		return nil, err
	}
	read := func(name string, shape ...int) ([]float64, error) {
		t, ok := safetensors.Lookup(ts, name)
		if !ok {
			return nil, fmt.Errorf("%s: no tensor %q", from, name)
		}
		if !slices.Equal(t.Shape, shape) {
			return nil, fmt.Errorf("%s: %q has shape %v, expected %v", from, name, t.Shape, shape)
		}
		v, err := t.Float32s()
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %w", from, name, err)
		}
		out := make([]float64, len(v))
		for j, x := range v {
			out[j] = float64(x)
		}
		return out, nil
	}
	if s.u, err = read(tensorSVDUser, train.NumUsers, s.k); err != nil {
		return nil, err
	}
	if s.sigma, err = read(tensorSVDSigma, s.k); err != nil {
		return nil, err
	}
	if s.v, err = read(tensorSVDItem, train.NumItems, s.k); err != nil {
		return nil, err
	}
	return s, nil
}
