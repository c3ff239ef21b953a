package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// Anchor is the configuration of the PyTorch the ratios are measured
// against, as tools/pytorch/anchor.py found it in its own process.
type Anchor struct {
	Torch    string `json:"torch"`
	BLASInfo string `json:"blas_info"` // torch's build setting: "generic" means whatever libblas.so.3 is
	// Libraries are the BLAS shared objects the process loaded, resolved;
	// SgemmFrom the one whose sgemm_ torch calls (OpenBLAS's LAPACK can
	// be loaded next to the reference BLAS).
	Libraries []string `json:"libblas"`
	SgemmFrom string   `json:"sgemm_from"`
	// OpenBLASCore is OpenBLAS's kernel set ("Haswell", "SkylakeX", …);
	// empty when the BLAS is not OpenBLAS.
	OpenBLASCore string `json:"openblas_core,omitempty"`
	// CoreType is OPENBLAS_CORETYPE in the anchor's environment, if set.
	CoreType *string `json:"openblas_coretype"`
	Threads  int     `json:"threads"`
	// CheckRelErr is a float32 product's largest error against float64,
	// relative to Σ|a||b|.
	CheckRelErr float64 `json:"check_rel_err"`
	MMSize      int     `json:"mm_size"`
	MMGFLOPs    float64 `json:"mm_gflops"` // torch.mm at MMSize², best of its rounds
	// Setting says how the environment was chosen (OPENBLAS_CORETYPE).
	Setting string `json:"setting"`

	env []string // the environment the references run in
}

// ReferenceBLAS reports whether the anchor runs Netlib's reference BLAS,
// against which any ratio flatters tapeml many times over.
func (a *Anchor) ReferenceBLAS() bool {
	if a.OpenBLASCore != "" {
		return false
	}
	libs := a.Libraries
	if a.SgemmFrom != "" {
		libs = []string{a.SgemmFrom}
	}
	for _, l := range libs {
		for _, fast := range []string{"openblas", "mkl", "blis", "atlas"} {
			if strings.Contains(strings.ToLower(filepath.Base(filepath.Dir(l))+"/"+filepath.Base(l)), fast) {
				return false
			}
		}
	}
	return true
}

// avx512Core reports whether OpenBLAS's kernel set uses AVX-512.
func avx512Core(core string) bool {
	return slices.Contains([]string{"SkylakeX", "Cooperlake", "SapphireRapids"}, core)
}

// maxCheckRelErr bounds the float32 product check: a few hundred terms of
// float32 rounding are ~1e-5; a wrong kernel is off by O(1).
const maxCheckRelErr = 1e-4

// probeAnchor runs anchor.py. On an AVX-512 CPU whose environment holds
// OpenBLAS to older kernels (OPENBLAS_CORETYPE=Haswell), it probes again
// without the setting and keeps that environment for the references when
// OpenBLAS then picks AVX-512 kernels that pass the float64 check.
func probeAnchor(ctx context.Context, python, scripts string, threads int, avx512 bool) (*Anchor, error) {
	script := filepath.Join(scripts, "anchor.py")
	env := os.Environ()
	a, err := runAnchor(ctx, python, script, threads, env)
	if err != nil {
		return nil, err
	}
	a.env, a.Setting = env, "environment as given"
	if a.CoreType != nil {
		a.Setting = "OPENBLAS_CORETYPE=" + *a.CoreType + " as given"
	}
	if !avx512 || a.OpenBLASCore == "" || avx512Core(a.OpenBLASCore) || a.CoreType == nil {
		return a, nil
	}
	unset := slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, "OPENBLAS_CORETYPE=") })
	b, err := runAnchor(ctx, python, script, threads, unset)
	switch {
	case err != nil:
		a.Setting += fmt.Sprintf(" (without it the probe failed: %v)", err)
		return a, nil
	case !avx512Core(b.OpenBLASCore):
		a.Setting += fmt.Sprintf(" (without it OpenBLAS picks %s, no AVX-512 either)", b.OpenBLASCore)
		return a, nil
	case !(b.CheckRelErr <= maxCheckRelErr):
		a.Setting += fmt.Sprintf(" (OpenBLAS's %s kernels failed the float64 check: error %.3g)", b.OpenBLASCore, b.CheckRelErr)
		return a, nil
	}
	b.env = unset
	b.Setting = fmt.Sprintf("OPENBLAS_CORETYPE=%s unset for PyTorch: OpenBLAS runs its AVX-512 %s kernels (checked against float64: %.2g; with %s, torch.mm %.1f GFLOP/s)",
		*a.CoreType, b.OpenBLASCore, b.CheckRelErr, a.OpenBLASCore, a.MMGFLOPs)
	return b, nil
}

func runAnchor(ctx context.Context, python, script string, threads int, env []string) (*Anchor, error) {
	out, err := runScript(ctx, []string{python, script, "--threads", fmt.Sprint(threads)}, env)
	if err != nil {
		return nil, fmt.Errorf("PyTorch not run: %w", err)
	}
	var a Anchor
	if err := json.Unmarshal(out, &a); err != nil || a.Torch == "" || !(a.MMGFLOPs > 0) {
		return nil, fmt.Errorf("PyTorch not run: %s printed %q", filepath.Base(script), strings.TrimSpace(string(out)))
	}
	return &a, nil
}

// sgemmPeak is tapeml's own float32 product at n² on threads: the best of
// rounds, in GFLOP/s.
func sgemmPeak(threads, n, rounds int) float64 {
	a, b, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
	for i := range a {
		a[i], b[i] = float32(i%7)-3, float32(i%5)-2
	}
	run := func() { kern.Sgemm(threads, false, false, n, n, n, 1, a, n, b, n, 0, c, n) }
	for range 3 {
		run()
	}
	best := time.Duration(1 << 62)
	for range rounds {
		t := time.Now()
		run()
		best = min(best, time.Since(t))
	}
	return 2 * float64(n) * float64(n) * float64(n) / best.Seconds() / 1e9
}
