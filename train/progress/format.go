package progress

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// FormatValue prints a metric with four decimals ("0.2311") when that
// shows it well, and with four significant digits otherwise ("3e-05" for a
// learning rate, "1.235e+06" for a large loss); "nan", "inf" and "-inf" for
// the non-finite.
func FormatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "nan"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	case v == 0:
		return "0.0000"
	}
	if a := math.Abs(v); a >= 1e-3 && a < 1e5 {
		return strconv.FormatFloat(v, 'f', 4, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// FormatDuration prints an epoch's wall time: "4.1s", "2m05s", "1h02m03s".
func FormatDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	s := int64(d.Round(time.Second) / time.Second)
	if s < 3600 {
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm%02ds", s/3600, s/60%60, s%60)
}

// FormatClock prints a time left as a clock: "0:03", "12:40", "1:02:03".
func FormatClock(d time.Duration) string {
	s := int64(max(d, 0).Round(time.Second) / time.Second)
	if s < 3600 {
		return fmt.Sprintf("%d:%02d", s/60, s%60)
	}
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}

// formatRate prints samples per second without false precision.
func formatRate(r float64) string {
	if r < 10 {
		return strconv.FormatFloat(r, 'f', 1, 64)
	}
	return strconv.FormatFloat(math.Round(r), 'f', 0, 64)
}
