package recsys

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// DefaultTestFraction is the share of ratings RandomSplit holds out by
// default.
const DefaultTestFraction = 0.2

// RandomSplit holds out a seeded random fraction of the ratings as the test
// set (testFraction 0 means DefaultTestFraction, 20%). Both parts keep the
// input order. The split is a pure function of (len(rs), testFraction,
// seed).
func RandomSplit(rs []Rating, testFraction float64, seed uint64) (train, test []Rating, err error) {
	if testFraction == 0 {
		testFraction = DefaultTestFraction
	}
	if !(testFraction > 0 && testFraction < 1) {
		return nil, nil, fmt.Errorf("split: test fraction %v: expected a value in (0, 1)", testFraction)
	}
	if len(rs) < 2 {
		return nil, nil, fmt.Errorf("split: %d ratings cannot be split in two", len(rs))
	}
	nTest := int(float64(len(rs))*testFraction + 0.5)
	nTest = min(max(nTest, 1), len(rs)-1)
	held := make([]bool, len(rs))
	for _, k := range rand.New(rand.NewPCG(seed, 0x5b117)).Perm(len(rs))[:nTest] {
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

// LeaveLastOut holds out each user's k latest ratings (by timestamp; among
// equal timestamps the later in rs counts as later) as the test set: the
// temporal split. Users with k ratings or fewer stay entirely in the
// training set, so every test user has training history. Both parts keep
// the input order.
func LeaveLastOut(rs []Rating, k int) (train, test []Rating, err error) {
	if k < 1 {
		return nil, nil, fmt.Errorf("split: leave-last-k-out needs k ≥ 1, got %d", k)
	}
	byUser := map[int32][]int{}
	for idx, r := range rs {
		byUser[r.User] = append(byUser[r.User], idx)
	}
	held := make([]bool, len(rs))
	for _, idx := range byUser {
		if len(idx) <= k {
			continue
		}
		// Stable: among equal times the input order stands.
		slices.SortStableFunc(idx, func(a, b int) int {
			switch {
			case rs[a].Time < rs[b].Time:
				return -1
			case rs[a].Time > rs[b].Time:
				return 1
			}
			return 0
		})
		for _, j := range idx[len(idx)-k:] {
			held[j] = true
		}
	}
	for j, r := range rs {
		if held[j] {
			test = append(test, r)
		} else {
			train = append(train, r)
		}
	}
	if len(test) == 0 {
		return nil, nil, fmt.Errorf("split: no user has more than %d ratings, so nothing is left out", k)
	}
	return train, test, nil
}
