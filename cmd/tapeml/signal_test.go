//go:build unix

package main

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tapeml/tapeml/checkpoint"
)

// A real SIGINT (and SIGTERM) to a training process: it stops, exits 130,
// says how to resume, releases the lock and keeps complete epochs.
func TestSignalStopsTraining(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "tapeml")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "run")
			cmd := exec.Command(bin, append(tinyText(t), "--epochs", "100000", "--out", out)...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := bufio.NewScanner(stdout)
			for lines.Scan() && !strings.HasPrefix(lines.Text(), "epoch 2/") {
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			for lines.Scan() {
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			var exit *exec.ExitError
			select {
			case err := <-done:
				if !errors.As(err, &exit) || exit.ExitCode() != exitInterrupted {
					t.Fatalf("exit: %v, want status %d; stderr %q", err, exitInterrupted, stderr.String())
				}
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("still running 30 s after %v", sig)
			}
			if msg := stderr.String(); !strings.Contains(msg, "stopping before the next batch") || !strings.Contains(msg, "continue with: tapeml train textcnn --resume "+out) {
				t.Fatalf("stderr %q", msg)
			}
			if _, err := os.Stat(filepath.Join(out, checkpoint.LockFile)); err == nil {
				t.Fatalf("lock file left behind")
			}
			if c, err := checkpoint.Open(out, checkpoint.PickLatest); err != nil || c.Meta.Epoch < 2 {
				t.Fatalf("latest checkpoint: %v", err)
			}
		})
	}
}
