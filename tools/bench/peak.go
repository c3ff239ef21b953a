package bench

// SgemmPeak is the machine's sgemm peak as the report measures it
// (Machine.SgemmGFLOPs): tapeml's float32 product at 1024² on threads, the
// best of 10 rounds, in GFLOP/s. tools/inferbench sets inference against it.
func SgemmPeak(threads int) float64 { return sgemmPeak(threads, peakSize, 10) }
