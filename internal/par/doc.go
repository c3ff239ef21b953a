// Package par runs the parts of one kernel call on the calling goroutine
// and a few long-lived helper goroutines: the products and convolutions
// of graph, the threaded products of internal/kernel and the optimizer's
// passes over large parameters all fork through it, so that one set of
// helpers, awake or asleep as the work asks, serves them all.
//
// The caller runs parts itself until none is left and only waits for
// parts a helper has already started, so a helper that is slow to wake
// costs nothing but its share. Which goroutine runs a part never changes
// what the part computes.
package par
