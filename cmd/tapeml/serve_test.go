package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestServeUsageErrors: out-of-range serve flags are usage errors (exit
// 2), before any model is loaded.
func TestServeUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	os.WriteFile(tokens, []byte("# tokens\nshort\n"), 0o600)
	fifo := filepath.Join(dir, "fifo")
	syscall.Mkfifo(fifo, 0o600)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--max-batch", "0"}, "--max-batch 0: want a positive number"},
		{[]string{"--max-batch", "-1"}, "--max-batch -1: want a positive number"},
		{[]string{"--max-batch", "100000"}, "--max-batch 100000: at most 4096"},
		{[]string{"--max-instances", "0"}, "--max-instances 0"},
		{[]string{"--max-connections", "-5"}, "--max-connections -5"},
		{[]string{"--max-concurrent-requests", "0"}, "--max-concurrent-requests 0"},
		{[]string{"--max-explain-passes", "0"}, "--max-explain-passes 0"},
		{[]string{"--max-delay", "-1ms"}, "--max-delay -1ms"},
		{[]string{"--shutdown-timeout", "0s"}, "--shutdown-timeout 0s"},
		{[]string{"--write-timeout", "-1s"}, "--write-timeout -1s"},
		{[]string{"--max-text-bytes", "0"}, "--max-text-bytes"},
		{[]string{"--tls-cert", "c.pem"}, "--tls-cert and --tls-key go together"},
		{[]string{"--open-health"}, "--open-health goes with --auth-token-file"},
		{[]string{"--auth-token-file", tokens}, "at least 16 characters"},
		{[]string{"--auth-token-file", fifo}, "FIFO"},
	} {
		status, out, stderr := runCLI(t, "", append([]string{"serve", "--models", dir}, c.args...)...)
		if status != exitUsage || out != "" || !strings.Contains(stderr, c.want) {
			t.Errorf("serve %q: exit %d, stderr %q; want %d naming %q", c.args, status, stderr, exitUsage, c.want)
		}
	}
}
