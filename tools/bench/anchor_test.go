package bench

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestReferenceBLAS(t *testing.T) {
	for _, c := range []struct {
		libs []string
		from string
		core string
		want bool
	}{
		// LD_LIBRARY_PATH put the reference BLAS first; OpenBLAS came in
		// through LAPACK.
		{[]string{"/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0", "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so"},
			"/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0", "", true},
		{[]string{"/usr/lib/x86_64-linux-gnu/blas/libblas.so.3"}, "", "", true},
		{nil, "", "", true},
		{[]string{"/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3"}, "", "", false},
		{[]string{"/usr/lib/x86_64-linux-gnu/blas/libblas.so.3"}, "", "Haswell", false},
		{[]string{"/opt/intel/lib/libmkl_rt.so"}, "", "", false},
		{[]string{"/usr/lib/x86_64-linux-gnu/blis-openmp/libblas.so.3"}, "", "", false},
	} {
		a := &Anchor{Libraries: c.libs, SgemmFrom: c.from, OpenBLASCore: c.core}
		if got := a.ReferenceBLAS(); got != c.want {
			t.Errorf("%v %q: reference %v, want %v", c.libs, c.core, got, c.want)
		}
	}
}

// fakePython writes a shell script standing for python + anchor.py: it
// prints the JSON a probe in its environment would, from a case per
// OPENBLAS_CORETYPE value.
func fakePython(t *testing.T, haswell, unset string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "python")
	script := "#!/bin/sh\nif [ -n \"$OPENBLAS_CORETYPE\" ]; then echo '" + haswell + "'; else echo '" + unset + "'; fi\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

const (
	probeHaswell = `{"torch":"1.13.1","blas_info":"generic","libblas":["/usr/lib/x/openblas-pthread/libblas.so.3"],"openblas_core":"Haswell","openblas_coretype":"Haswell","threads":2,"check_rel_err":3e-7,"mm_size":1024,"mm_gflops":170}`
	probeSkylake = `{"torch":"1.13.1","blas_info":"generic","libblas":["/usr/lib/x/openblas-pthread/libblas.so.3"],"openblas_core":"SkylakeX","openblas_coretype":null,"threads":2,"check_rel_err":3e-7,"mm_size":1024,"mm_gflops":300}`
	probeWrong   = `{"torch":"1.13.1","blas_info":"generic","libblas":["/usr/lib/x/openblas-pthread/libblas.so.3"],"openblas_core":"SkylakeX","openblas_coretype":null,"threads":2,"check_rel_err":0.5,"mm_size":1024,"mm_gflops":900}`
	probeNetlib  = `{"torch":"1.13.1","blas_info":"generic","libblas":["/usr/lib/x/blas/libblas.so.3"],"openblas_core":null,"openblas_coretype":null,"threads":2,"check_rel_err":3e-7,"mm_size":1024,"mm_gflops":4}`
)

// On an AVX-512 CPU held to Haswell kernels, the anchor runs without the
// setting when OpenBLAS's AVX-512 kernels pass the float64 check, and
// keeps it when they do not; elsewhere the environment stays as given.
func TestProbeAnchorCoreType(t *testing.T) {
	t.Setenv("OPENBLAS_CORETYPE", "Haswell")
	ctx := context.Background()
	a, err := probeAnchor(ctx, fakePython(t, probeHaswell, probeSkylake), "tools/pytorch", 2, true)
	if err != nil {
		t.Fatal(err)
	}
	if a.OpenBLASCore != "SkylakeX" || a.MMGFLOPs != 300 || slices.ContainsFunc(a.env, func(kv string) bool { return strings.HasPrefix(kv, "OPENBLAS_CORETYPE=") }) ||
		!strings.Contains(a.Setting, "OPENBLAS_CORETYPE=Haswell unset") || !strings.Contains(a.Setting, "Haswell, torch.mm 170.0") {
		t.Errorf("AVX-512: %+v", a)
	}
	a, err = probeAnchor(ctx, fakePython(t, probeHaswell, probeWrong), "tools/pytorch", 2, true)
	if err != nil {
		t.Fatal(err)
	}
	if a.OpenBLASCore != "Haswell" || !strings.Contains(a.Setting, "failed the float64 check") || !slices.Contains(a.env, "OPENBLAS_CORETYPE=Haswell") {
		t.Errorf("wrong kernels: %+v", a)
	}
	a, err = probeAnchor(ctx, fakePython(t, probeHaswell, probeSkylake), "tools/pytorch", 2, false)
	if err != nil {
		t.Fatal(err)
	}
	if a.OpenBLASCore != "Haswell" || a.Setting != "OPENBLAS_CORETYPE=Haswell as given" {
		t.Errorf("AVX2 CPU: %+v", a)
	}
	if _, err := probeAnchor(ctx, fakePython(t, "not json", "not json"), "tools/pytorch", 2, true); err == nil || !strings.Contains(err.Error(), "PyTorch not run") {
		t.Errorf("bad probe output: %v", err)
	}
}

// Against the reference BLAS no PyTorch ratio is printed: the row says
// why, with the fix.
func TestRunRefusesReferenceBLAS(t *testing.T) {
	t.Setenv("OPENBLAS_CORETYPE", "")
	os.Unsetenv("OPENBLAS_CORETYPE")
	rep, err := Run(context.Background(), Config{Models: []string{"mf"}, Steps: 2, Python: fakePython(t, probeNetlib, probeNetlib), Scripts: "tools/pytorch"})
	if err != nil {
		t.Fatal(err)
	}
	row := rep.Training[0]
	if row.Reference != nil || row.Ratio != 0 || !strings.Contains(row.Note, "reference BLAS") || !strings.Contains(row.Note, "apt-get install libopenblas0") {
		t.Errorf("row %+v: want no ratio and the hint", row)
	}
	if rep.Machine.Anchor == nil || rep.Machine.Peak != rep.Machine.SgemmGFLOPs || row.FLOPsPerSample <= 0 || row.TapemlOfPeak <= 0 {
		t.Errorf("machine %+v, row %+v: want the anchor described, the peak tapeml's own, the row's fraction", rep.Machine, row)
	}
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"sgemm peak:", "anchor: PyTorch 1.13.1, BLAS_INFO=generic", "of peak", "reference BLAS"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, b.String())
		}
	}
}
