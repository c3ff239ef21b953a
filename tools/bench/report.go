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
	if m.PyTorch != "" {
		fmt.Fprintf(w, "; PyTorch %s", m.PyTorch)
	}
	fmt.Fprintln(w)
	for _, part := range []struct {
		title string
		rows  []Row
	}{{"training", r.Training}, {"inference", r.Inference}} {
		if len(part.rows) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s (samples/s)\n", part.title)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "model\tbatch\ttapeml\treference\tratio\t")
		for _, row := range part.rows {
			ref, ratio := "—", "—"
			if row.Reference != nil {
				ref = fmt.Sprintf("%s %.1f", row.Engine, row.Reference.SamplesPerSec)
				ratio = fmt.Sprintf("%.2f×", row.Ratio)
			}
			fmt.Fprintf(tw, "%s\t%d\t%.1f\t%s\t%s\t\n", row.Model, row.Batch, row.Tapeml.SamplesPerSec, ref, ratio)
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
