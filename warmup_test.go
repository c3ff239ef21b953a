package tapeml_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/tapeml/tapeml"
)

func TestWarmupConcurrent(t *testing.T) {
	for _, c := range []struct{ k, perBucket, want int }{
		{1, 2, 6}, // buckets 1..32: one machine each
		{2, 2, 12},
		{4, 2, 12}, // capped by MachinesPerBucket
	} {
		m, err := tapeml.LoadWithOptions(filepath.Join(legacy, "textcnn"), tapeml.Options{MaxBatch: 32, MachinesPerBucket: c.perBucket})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.WarmupConcurrent(context.Background(), c.k); err != nil {
			t.Fatal(err)
		}
		if got := m.CompiledMachines(); got != c.want {
			t.Errorf("k=%d, %d per bucket: %d machines, want %d", c.k, c.perBucket, got, c.want)
		}
	}
	m, _ := tapeml.Load(filepath.Join(legacy, "textcnn"))
	if err := m.WarmupConcurrent(context.Background(), 0); err == nil {
		t.Error("0 callers: no error")
	}
}
