//go:build !amd64 || purego

package kernel

// fmaRounds has no vector multiply-add to run in pure Go.
func fmaRounds(n int) int { return 0 }
