package explain_test

import (
	"image"
	"testing"

	_ "github.com/tapeml/tapeml/models/all"
	_ "github.com/tapeml/tapeml/samples"
	"github.com/tapeml/tapeml/tapemltest"
)

// legacy holds checkpoints saved by earlier tapeml versions.
const legacy = "../testdata/legacy"

// convnetCheckpoint saves a small ConvNet (see tapemltest.SmallConvNet).
func convnetCheckpoint(t testing.TB, channels int) string {
	t.Helper()
	path, err := tapemltest.SmallConvNet(t.TempDir(), channels)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// pixels returns n deterministic gray 8×8 images as raw values and as
// image.Image.
func pixels(n, seed int) ([]float32, []image.Image) { return tapemltest.GrayPixels(n, seed) }
