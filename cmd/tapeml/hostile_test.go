//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Every path a user gives is read as hostile (issue 28, point 8): image
// paths for predict and explain were read with os.ReadFile (/dev/zero
// grew without limit, a FIFO hung), and train recsys --items opened a
// FIFO and waited.
func TestUserPathsAreReadAsHostile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "image.png")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	// Links to a FIFO and to /dev/zero: only stat'ed, never read.
	zeroLink, fifoLink := filepath.Join(dir, "zero.png"), filepath.Join(dir, "fifo-link.png")
	for from, to := range map[string]string{zeroLink: "/dev/zero", fifoLink: fifo} {
		if err := os.Symlink(to, from); err != nil {
			t.Fatal(err)
		}
	}
	items := filepath.Join(dir, "movies.csv")
	if err := syscall.Mkfifo(items, 0o644); err != nil {
		t.Fatal(err)
	}
	conv := grayConvnet(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"predict", "--checkpoint", conv, fifo}, fifo + ": is a FIFO"},
		{[]string{"predict", "--checkpoint", conv, fifoLink}, fifoLink + ": is a FIFO"},
		{[]string{"predict", "--checkpoint", conv, zeroLink}, zeroLink + ": is a device"},
		{[]string{"explain", "--checkpoint", conv, fifo}, fifo + ": is a FIFO"},
		{[]string{"explain", "--checkpoint", conv, zeroLink}, zeroLink + ": is a device"},
		{[]string{"train", "recsys", "--items", items, "--epochs", "1", "--out", filepath.Join(dir, "run")}, items + ": is a FIFO"},
	} {
		done := make(chan struct{})
		var status int
		var stderr string
		go func() {
			defer close(done)
			status, _, stderr = runCLI(t, "", tc.args...)
		}()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			t.Fatalf("%v: still running after 60 s", tc.args)
		}
		if status != exitFailed || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%v: status %d, stderr %q; want one line with %q", tc.args, status, stderr, tc.want)
		}
	}
}
