package atomicfile

import (
	"os"
	"sync"
)

// temps are the temporary files and folders being written, which an
// interrupted program removes (RemoveTemporaries).
var temps = struct {
	sync.Mutex
	paths map[string]bool
}{paths: map[string]bool{}}

// Track records path as a temporary file or folder being written until
// the returned function is called; WriteFile tracks its temporary files,
// and checkpoint saves their temporary folders.
func Track(path string) (done func()) {
	temps.Lock()
	temps.paths[path] = true
	temps.Unlock()
	return func() {
		temps.Lock()
		delete(temps.paths, path)
		temps.Unlock()
	}
}

// RemoveTemporaries removes every tracked temporary file and folder and
// returns their paths: what a program interrupted by a signal calls before
// it exits, so that no hidden ".NAME.tmp-*" is left behind. Writes in
// progress then fail (their temporary file is gone), and nothing they
// would have replaced is touched.
func RemoveTemporaries() []string {
	temps.Lock()
	defer temps.Unlock()
	var removed []string
	for p := range temps.paths {
		if _, err := os.Lstat(p); err == nil && os.RemoveAll(p) == nil {
			removed = append(removed, p)
		}
		delete(temps.paths, p)
	}
	return removed
}
