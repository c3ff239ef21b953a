//go:build race

package graph_test

// raceEnabled: the race detector slows the kernels ten- to twentyfold
// (see slowKernels).
const raceEnabled = true
