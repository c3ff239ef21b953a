package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes r as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes r as a table: one row per workload with tapeml's and
// the reference's samples/s and their ratio, under a description of the
// machine.
func (r *Report) WriteText(w io.Writer) error {
	m := r.Machine
	fmt.Fprintf(w, "CPU: %s\n", m.CPU)
	fmt.Fprintf(w, "features: %s\n", strings.Join(m.Features, " "))
	fmt.Fprintf(w, "tapeml kernels: %s (best supported: %s); threads: %d; %s %s", m.SIMD, m.SIMDMax, m.Threads, m.GoVersion, m.OSArch)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "sgemm peak: %.1f GFLOP/s (tapeml's sgemm at %d²: %.1f", m.Peak, peakSize, m.SgemmGFLOPs)
	if a := m.Anchor; a != nil {
		fmt.Fprintf(w, "; torch.mm: %.1f", a.MMGFLOPs)
	}
	fmt.Fprintln(w, ")")
	if m.FMAGFLOPs > 0 {
		fmt.Fprintf(w, "FMA peak: %.1f GFLOP/s (%s multiply-adds on registers only, the arithmetic limit; the sgemm peak is %.0f%% of it)\n",
			m.FMAGFLOPs, m.SIMD, 100*m.Peak/m.FMAGFLOPs)
	}
	if a := m.Anchor; a != nil {
		blas := a.SgemmFrom
		if blas == "" {
			blas = strings.Join(a.Libraries, ", ")
		}
		fmt.Fprintf(w, "anchor: PyTorch %s, BLAS_INFO=%s, sgemm from %s", a.Torch, a.BLASInfo, blas)
		if a.OpenBLASCore != "" {
			fmt.Fprintf(w, " (OpenBLAS kernels %s)", a.OpenBLASCore)
		}
		fmt.Fprintf(w, "\nanchor setting: %s\n", a.Setting)
	}
	for _, part := range []struct {
		title string
		rows  []Row
	}{{"training", r.Training}, {"inference", r.Inference}} {
		if len(part.rows) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s (samples/s)\n", part.title)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "model\tbatch\ttapeml\treference\tratio\tMFLOP/sample\ttapeml of peak\treference of peak\t")
		for _, row := range part.rows {
			ref, ratio, mflop, ours, theirs := "—", "—", "—", "—", "—"
			if row.Reference != nil {
				ref = fmt.Sprintf("%s %.1f", row.Engine, row.Reference.SamplesPerSec)
				ratio = fmt.Sprintf("%.2f×", row.Ratio)
			}
			if row.FLOPsPerSample > 0 {
				mflop = fmt.Sprintf("%.4g", row.FLOPsPerSample/1e6)
			}
			if row.TapemlOfPeak > 0 {
				ours = fmt.Sprintf("%.1f%%", 100*row.TapemlOfPeak)
			}
			if row.ReferenceOfPeak > 0 {
				theirs = fmt.Sprintf("%.1f%%", 100*row.ReferenceOfPeak)
			}
			fmt.Fprintf(tw, "%s\t%d\t%.1f\t%s\t%s\t%s\t%s\t%s\t\n", row.Model, row.Batch, row.Tapeml.SamplesPerSec, ref, ratio, mflop, ours, theirs)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, row := range part.rows {
			if row.Note != "" {
				fmt.Fprintf(w, "  %s: %s\n", row.Model, row.Note)
			}
		}
	}
	return nil
}
