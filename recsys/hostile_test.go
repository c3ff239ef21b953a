//go:build unix

package recsys

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReadRatingsRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "ratings.csv")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip(err)
	}
	done := make(chan error, 1)
	go func() { _, _, err := ReadRatings(fifo, ReadOptions{}); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), fifo+": is a FIFO") {
			t.Fatalf("got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ReadRatings blocked on a FIFO")
	}
	link := filepath.Join(dir, "u.data")
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Skip(err)
	}
	if _, _, err := ReadRatings(link, ReadOptions{}); err == nil || !strings.Contains(err.Error(), "is a device") {
		t.Fatalf("got %v", err)
	}
}
