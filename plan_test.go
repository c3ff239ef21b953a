package tapeml_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/internal/core"
)

// TestServingRunsPlans checks that a loaded model serves from static
// plans (graph/plan.go), not the tape, in every batch bucket: the legacy
// TextCNN, BiLSTM and MF checkpoints and a ConvNet.
func TestServingRunsPlans(t *testing.T) {
	ctx := context.Background()
	for _, path := range []string{filepath.Join(legacy, "textcnn"), filepath.Join(legacy, "lstm"), filepath.Join(legacy, "mf"), convnetCheckpoint(t, 3)} {
		m, err := tapeml.LoadWithOptions(path, tapeml.Options{MaxBatch: 4, MachinesPerBucket: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Warmup(ctx); err != nil {
			t.Fatal(err)
		}
		run := core.Unwrap(m).Run
		for i, n := range run.Buckets() {
			sm, err := run.Pool(i).Get(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !sm.M.Planned() {
				t.Errorf("%s: the machine of batch %d runs on the tape", path, n)
			}
			run.Pool(i).Put(sm)
		}
	}
}
