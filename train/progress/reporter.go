package progress

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/tapeml/tapeml/metrics"
)

// Named is a metric name and value, the same type as metrics.Named so a
// History row or a Result can be passed as is.
type Named = metrics.Named

// Live selects whether the in-place progress bar is drawn.
type Live int

const (
	// LiveAuto draws the bar when the writer is an *os.File on a terminal.
	LiveAuto Live = iota
	// LiveOn always draws it (tests, or a --progress flag).
	LiveOn
	// LiveOff never draws it: only the per-epoch lines are written.
	LiveOff
)

// Config tunes a Reporter. The zero value gives the defaults.
type Config struct {
	// Live: default LiveAuto.
	Live Live
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Interval is the least time between two redraws of the bar; default
	// 100ms, so at most ten redraws a second whatever the batch rate.
	Interval time.Duration
	// BarWidth is the number of cells between the brackets; default 30.
	BarWidth int
	// LogInterval is, when the bar is not live (a pipe, a CI log, nohup),
	// how often a plain progress line is written within an epoch, so a
	// log shows the run is alive: at the first Update at least this long
	// after the epoch's start or the last such line; default 20s, so that
	// with batches under 10s no 30s pass without a line; negative: never.
	LogInterval time.Duration
	// Width is the most columns the live line may use, so it never wraps
	// (a wrapped line cannot be redrawn with \r); default the terminal's
	// width when the writer is one, else no limit.
	Width int
}

// Reporter writes the progress of a training run. It is not safe for
// concurrent use. Write errors do not interrupt training: the first one is
// kept for Err and nothing more is written.
type Reporter struct {
	w     io.Writer
	cfg   Config
	live  bool
	fd    int // the terminal's file descriptor, -1 when unknown
	total int

	epoch    int
	samples  int
	started  time.Time
	inEpoch  bool
	done     int
	loss     float64
	drawn    bool      // the bar is on screen
	lastDraw time.Time // zero forces the next Update to redraw
	lastLog  time.Time // the epoch's start or its last plain progress line
	lineLen  int       // length of the bar line on screen
	err      error
}

// New reports a run of totalEpochs epochs (0 or less if unknown) to w,
// drawing the live bar only when w is a terminal.
func New(w io.Writer, totalEpochs int) *Reporter {
	return NewWithConfig(w, totalEpochs, Config{})
}

// NewWithConfig is New with explicit settings.
func NewWithConfig(w io.Writer, totalEpochs int, cfg Config) *Reporter {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 100 * time.Millisecond
	}
	if cfg.BarWidth <= 0 {
		cfg.BarWidth = 30
	}
	if cfg.LogInterval == 0 {
		cfg.LogInterval = 20 * time.Second
	}
	r := &Reporter{w: w, cfg: cfg, total: totalEpochs, fd: -1}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		r.fd = int(f.Fd())
	}
	switch cfg.Live {
	case LiveOn:
		r.live = true
	case LiveAuto:
		r.live = r.fd >= 0
	}
	return r
}

// IsLive reports whether the in-place bar is drawn.
func (r *Reporter) IsLive() bool { return r.live }

// Err is the first error writing to the output, if any.
func (r *Reporter) Err() error { return r.err }

// StartEpoch begins epoch (1-based) of samples training examples (0 or
// less if unknown: no bar nor ETA then) and starts its clock.
func (r *Reporter) StartEpoch(epoch, samples int) {
	r.clearBar()
	r.epoch, r.samples = epoch, samples
	r.started = r.cfg.Now()
	r.lastLog = r.started
	r.inEpoch = true
	r.done, r.loss = 0, math.NaN()
	r.lastDraw = time.Time{}
}

// Update records that done examples of the epoch are finished and that the
// running training loss is loss, and redraws the bar if it is live and was
// last drawn at least Config.Interval ago (or the epoch is complete).
// Calling it outside StartEpoch…EndEpoch is a programmer error and panics.
func (r *Reporter) Update(done int, loss float64) {
	if !r.inEpoch {
		panic("progress: Update called outside StartEpoch…EndEpoch")
	}
	r.done, r.loss = done, loss
	if !r.live {
		if r.cfg.LogInterval > 0 {
			if now := r.cfg.Now(); now.Sub(r.lastLog) >= r.cfg.LogInterval {
				r.lastLog = now
				r.write(r.barLine(now, false) + "\n")
			}
		}
		return
	}
	now := r.cfg.Now()
	complete := r.samples > 0 && done >= r.samples
	if !r.lastDraw.IsZero() && now.Sub(r.lastDraw) < r.cfg.Interval && !complete {
		return
	}
	r.lastDraw = now
	r.drawBar(r.barLine(now, true))
}

// EndEpoch clears the bar and writes the epoch's line: its number, the
// metrics in the given order ("epoch" and "time_s" are left out, the line
// shows them already), the wall time since StartEpoch and the throughput.
// Calling it without StartEpoch is a programmer error and panics.
func (r *Reporter) EndEpoch(values []Named) {
	if !r.inEpoch {
		panic("progress: EndEpoch called without StartEpoch")
	}
	r.clearBar()
	r.inEpoch = false
	elapsed := r.cfg.Now().Sub(r.started)

	var b strings.Builder
	b.WriteString(r.epochLabel())
	for _, m := range values {
		if m.Name == "epoch" || m.Name == "time_s" {
			continue
		}
		fmt.Fprintf(&b, "  %s %s", m.Name, FormatValue(m.Value))
	}
	fmt.Fprintf(&b, "  (%s", FormatDuration(elapsed))
	if r.samples > 0 && elapsed > 0 {
		fmt.Fprintf(&b, ", %s samples/s", formatRate(float64(r.samples)/elapsed.Seconds()))
	}
	b.WriteString(")\n")
	r.write(b.String())
}

// Printf writes a message on its own line (a newline is added if missing),
// clearing the bar first; the bar comes back at the next Update.
func (r *Reporter) Printf(format string, args ...any) {
	r.clearBar()
	msg := fmt.Sprintf(format, args...)
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	r.write(msg)
	r.lastDraw = time.Time{}
}

func (r *Reporter) epochLabel() string {
	if r.total > 0 {
		return fmt.Sprintf("epoch %d/%d", r.epoch, r.total)
	}
	return fmt.Sprintf("epoch %d", r.epoch)
}

// barLine is the progress line: epoch, bar (when drawn), count,
// throughput, ETA, loss.
func (r *Reporter) barLine(now time.Time, drawn bool) string {
	var b strings.Builder
	b.WriteString(r.epochLabel())
	if r.samples > 0 {
		if drawn {
			b.WriteString(" [" + bar(r.done, r.samples, r.cfg.BarWidth) + "]")
		}
		fmt.Fprintf(&b, " %d/%d", r.done, r.samples)
	} else {
		fmt.Fprintf(&b, " %d", r.done)
	}
	if elapsed := now.Sub(r.started).Seconds(); elapsed > 0 && r.done > 0 {
		rate := float64(r.done) / elapsed
		fmt.Fprintf(&b, " %s samples/s", formatRate(rate))
		if r.samples > 0 {
			remaining := float64(max(r.samples-r.done, 0)) / rate
			if remaining < 100*3600 {
				b.WriteString(" ETA " + FormatClock(time.Duration(remaining*float64(time.Second))))
			} else {
				b.WriteString(" ETA >99h") // and no Duration overflow
			}
		}
	}
	if !math.IsNaN(r.loss) {
		b.WriteString(" loss " + FormatValue(r.loss))
	}
	return b.String()
}

// bar fills width cells in proportion to done/total: "=====>    ".
func bar(done, total, width int) string {
	if done >= total {
		return strings.Repeat("=", width)
	}
	filled := max(done, 0) * width / total
	return strings.Repeat("=", filled) + ">" + strings.Repeat(" ", width-filled-1)
}

// drawBar replaces the line on screen with line, padding with spaces over
// whatever a longer previous line left.
func (r *Reporter) drawBar(line string) {
	if width := r.width(); width > 0 && len(line) > width-1 {
		line = line[:width-1] // the last column would wrap on some terminals
	}
	pad := max(r.lineLen-len(line), 0)
	r.write("\r" + line + strings.Repeat(" ", pad))
	r.drawn, r.lineLen = true, len(line)
}

func (r *Reporter) clearBar() {
	if !r.drawn {
		return
	}
	r.write("\r" + strings.Repeat(" ", r.lineLen) + "\r")
	r.drawn, r.lineLen = false, 0
}

// width is Config.Width, or the terminal's current width (it may have been
// resized), or 0 for no limit.
func (r *Reporter) width() int {
	if r.cfg.Width > 0 {
		return r.cfg.Width
	}
	if r.fd >= 0 {
		if w, _, err := term.GetSize(r.fd); err == nil {
			return w
		}
	}
	return 0
}

func (r *Reporter) write(s string) {
	if r.err != nil {
		return
	}
	if _, err := io.WriteString(r.w, s); err != nil {
		r.err = fmt.Errorf("progress: %w", err)
	}
}
