//go:build race

package graph_test

// raceEnabled: the race detector slows the kernels ten- to twentyfold, so
// the plan tests run their small batches only.
const raceEnabled = true
