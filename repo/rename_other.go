//go:build !linux

package repo

func renameNew(from, to string) error { return renameNewPortable(from, to) }
