package textdata

import "slices"

// Apportion splits n in proportion to sizes by the largest remainder
// method, ties going to the earlier size: how many examples each group
// contributes to a stratified sample of n.
func Apportion(sizes []int, n int) []int {
	total := 0
	for _, s := range sizes {
		total += s
	}
	out := make([]int, len(sizes))
	if total == 0 {
		return out
	}
	rems := make([]int, len(sizes))
	given := 0
	for i, s := range sizes {
		out[i] = s * n / total
		rems[i] = s * n % total
		given += out[i]
	}
	order := make([]int, len(sizes))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return rems[b] - rems[a] })
	for _, i := range order[:n-given] {
		out[i]++
	}
	return out
}
