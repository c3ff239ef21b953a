package serve_test

import (
	"testing"

	"github.com/tapeml/tapeml/internal/refmodel"
)

// convnetCheckpoint saves a small ConvNet (see refmodel.SmallConvNet).
func convnetCheckpoint(t testing.TB, channels int) string {
	t.Helper()
	path, err := refmodel.SmallConvNet(t.TempDir(), channels)
	if err != nil {
		t.Fatal(err)
	}
	return path
}
