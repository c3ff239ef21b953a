package serve_test

import (
	"testing"

	"github.com/tapeml/tapeml/tapemltest"
)

// convnetCheckpoint saves a small ConvNet (see tapemltest.SmallConvNet).
func convnetCheckpoint(t testing.TB, channels int) string {
	t.Helper()
	path, err := tapemltest.SmallConvNet(t.TempDir(), channels)
	if err != nil {
		t.Fatal(err)
	}
	return path
}
