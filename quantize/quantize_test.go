package quantize

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapeml/tapeml/atomicfile"
	"github.com/tapeml/tapeml/checkpoint"
	_ "github.com/tapeml/tapeml/models/all"
)

// TestInt8RefusesBadInput checks the errors that come before anything is
// written: nothing to quantize, no calibration for a convolution, an
// already quantized checkpoint.
func TestInt8RefusesBadInput(t *testing.T) {
	tmp := t.TempDir()
	quantized := filepath.Join(tmp, "quantized")
	c, err := checkpoint.Load("../testdata/legacy/textcnn")
	if err != nil {
		t.Fatal(err)
	}
	c.Extra = map[string][]byte{checkpoint.QuantizationFile: []byte(`{"format":"int8","tensors":{}}`)}
	c.Dir = ""
	if err := checkpoint.Save(quantized, c); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(tmp, "other")
	if err := checkpoint.Save(other, c); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, src string
		opt       Options
		want      string
		is        error
		out       string // default: a new folder
	}{
		{"knn", "../testdata/legacy/knn", Options{Calibrate: -1}, "nothing to quantize", ErrNothingToQuantize, ""},
		// Before calibration: a run's checkpoint is not replaced silently,
		// and the source never.
		{"onto a checkpoint", "../testdata/legacy/textcnn", Options{Calibrate: -1}, "exists (a checkpoint)", atomicfile.ErrRefused, other},
		{"onto its source", quantized, Options{Calibrate: -1, Replace: true}, "is the input", atomicfile.ErrRefused, quantized},
		{"calibrate 0 for a conv model", "../testdata/legacy/textcnn", Options{Calibrate: 0}, "calibrate 0", nil, ""},
		{"already quantized", quantized, Options{Calibrate: -1}, "already quantized", nil, ""},
		{"missing", filepath.Join(tmp, "none"), Options{Calibrate: -1}, "none", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(tmp, "out-"+strings.ReplaceAll(tc.name, " ", "-"))
			if tc.out != "" {
				out = tc.out
			}
			_, err := Int8(context.Background(), tc.src, out, tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v is not %v", err, tc.is)
			}
			if tc.out != "" {
				if c, err := checkpoint.Load(out); err != nil || c.Meta.Epoch != 1 {
					t.Errorf("%s changed (%v)", out, err)
				}
			} else if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s was written (%v)", out, err)
			}
		})
	}
}
