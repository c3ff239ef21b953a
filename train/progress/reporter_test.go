package progress

import (
	"bytes"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

func (c *fakeClock) set(seconds float64) {
	c.t = time.Unix(1000, 0).Add(time.Duration(seconds * float64(time.Second)))
}

var epochMetrics = []Named{
	{Name: "epoch", Value: 3},
	{Name: "train/loss", Value: 0.23114},
	{Name: "train/accuracy", Value: 0.941},
	{Name: "val/loss", Value: 0.18006},
	{Name: "val/accuracy", Value: 0.955},
	{Name: "time_s", Value: 4.1},
}

const epochLine = "epoch 3/10  train/loss 0.2311  train/accuracy 0.9410  val/loss 0.1801  val/accuracy 0.9550  (4.1s, 390 samples/s)\n"

// In a pipe or a log only the end-of-epoch line appears.
func TestReporterNotATerminal(t *testing.T) {
	var buf bytes.Buffer
	clock := &fakeClock{}
	clock.set(0)
	r := NewWithConfig(&buf, 10, Config{Now: clock.Now})
	if r.IsLive() {
		t.Fatal("a bytes.Buffer is live")
	}
	r.StartEpoch(3, 1600)
	for i := 1; i <= 16; i++ {
		clock.set(0.25 * float64(i))
		r.Update(100*i, 0.5)
	}
	clock.set(4.1)
	r.EndEpoch(epochMetrics)
	if got := buf.String(); got != epochLine {
		t.Fatalf("output %q\nwant %q", got, epochLine)
	}
}

// In a log a plain progress line appears every LogInterval within an
// epoch, at the first batch after it.
func TestReporterLogLines(t *testing.T) {
	var buf bytes.Buffer
	clock := &fakeClock{}
	clock.set(0)
	r := NewWithConfig(&buf, 10, Config{Now: clock.Now})
	r.StartEpoch(3, 1600)
	for i, at := range []float64{8, 16, 24, 32, 40, 44.5} {
		clock.set(at)
		r.Update(200*(i+1), 0.5)
	}
	want := "epoch 3/10 600/1600 25 samples/s ETA 0:40 loss 0.5000\n" + // at 24s
		"epoch 3/10 1200/1600 27 samples/s ETA 0:15 loss 0.5000\n" // at 44.5s
	if got := buf.String(); got != want {
		t.Fatalf("output %q\nwant %q", got, want)
	}
	buf.Reset()
	r = NewWithConfig(&buf, 10, Config{Now: clock.Now, LogInterval: -1})
	r.StartEpoch(1, 10)
	clock.set(1000)
	r.Update(5, 0.1)
	if buf.Len() != 0 {
		t.Fatalf("LogInterval −1 wrote %q", buf.String())
	}
}

func TestReporterTerminal(t *testing.T) {
	var buf bytes.Buffer
	clock := &fakeClock{}
	clock.set(0)
	r := NewWithConfig(&buf, 10, Config{Live: LiveOn, Now: clock.Now})
	bar := func(s string) string { return "\r" + s }

	r.StartEpoch(3, 1600)
	steps := []struct {
		at   float64
		done int
		loss float64
		want string // what this Update writes
	}{
		// First update draws at once. 100 in 0.25s = 400/s, 1500 left = 3.75s.
		{0.25, 100, 0.5, bar("epoch 3/10 [=>                            ] 100/1600 400 samples/s ETA 0:04 loss 0.5000")},
		// 50ms later: throttled.
		{0.30, 200, 0.45, ""},
		{0.34, 300, 0.40, ""},
		// 812 in 2.6s = 312/s, 788 left ≈ 2.5s.
		{2.60, 812, 0.23114, bar("epoch 3/10 [===============>              ] 812/1600 312 samples/s ETA 0:03 loss 0.2311")},
		// Complete: drawn although only 10ms passed.
		{2.61, 1600, 0.2, bar("epoch 3/10 [==============================] 1600/1600 613 samples/s ETA 0:00 loss 0.2000")},
	}
	for i, s := range steps {
		buf.Reset()
		clock.set(s.at)
		r.Update(s.done, s.loss)
		if got := buf.String(); got != s.want {
			t.Fatalf("update %d wrote %q\nwant %q", i, got, s.want)
		}
	}
	buf.Reset()
	clock.set(4.1)
	r.EndEpoch(epochMetrics)
	width := len("epoch 3/10 [==============================] 1600/1600 613 samples/s ETA 0:00 loss 0.2000")
	want := "\r" + strings.Repeat(" ", width) + "\r" + epochLine
	if got := buf.String(); got != want {
		t.Fatalf("EndEpoch wrote %q\nwant %q", got, want)
	}

	// The next epoch starts drawing afresh.
	buf.Reset()
	r.StartEpoch(4, 1600)
	clock.set(4.2)
	r.Update(160, math.NaN())
	if got, want := buf.String(), "\repoch 4/10 [===>                          ] 160/1600 1600 samples/s ETA 0:01"; got != want {
		t.Fatalf("epoch 4 wrote %q\nwant %q", got, want)
	}
}

func TestReporterLongETA(t *testing.T) {
	var buf bytes.Buffer
	clock := &fakeClock{}
	clock.set(0)
	r := NewWithConfig(&buf, 1, Config{Live: LiveOn, Now: clock.Now, BarWidth: 1})
	r.StartEpoch(1, 1_000_000_000)
	clock.set(1)
	r.Update(1, math.NaN())
	if got, want := buf.String(), "\repoch 1/1 [>] 1/1000000000 1.0 samples/s ETA >99h"; got != want {
		t.Fatalf("wrote %q, want %q", got, want)
	}
}

// A shorter line must blank out what the longer one left on screen.
func TestReporterPadsShorterLine(t *testing.T) {
	var buf bytes.Buffer
	clock := &fakeClock{}
	clock.set(0)
	r := NewWithConfig(&buf, 0, Config{Live: LiveOn, Now: clock.Now, BarWidth: 4})
	r.StartEpoch(1, 0) // unknown size: no bar, no ETA
	clock.set(1)
	r.Update(10, 123.25)
	first := "epoch 1 10 10 samples/s loss 123.2500"
	clock.set(2)
	r.Update(20, math.NaN())
	second := "epoch 1 20 10 samples/s"
	want := "\r" + first + "\r" + second + strings.Repeat(" ", len(first)-len(second))
	if got := buf.String(); got != want {
		t.Fatalf("wrote %q\nwant %q", got, want)
	}
}

func TestReporterWidthAndPrintf(t *testing.T) {
	var buf bytes.Buffer
	clock := &fakeClock{}
	clock.set(0)
	r := NewWithConfig(&buf, 2, Config{Live: LiveOn, Now: clock.Now, Width: 20, BarWidth: 10})
	r.StartEpoch(1, 100)
	clock.set(1)
	r.Update(50, 0.5)
	if got, want := buf.String(), "\repoch 1/2 [=====>  "; got != want {
		t.Fatalf("truncated line %q, want %q", got, want)
	}
	buf.Reset()
	r.Printf("saved checkpoint %s", "ckpt/3")
	if got, want := buf.String(), "\r"+strings.Repeat(" ", 19)+"\rsaved checkpoint ckpt/3\n"; got != want {
		t.Fatalf("Printf wrote %q, want %q", got, want)
	}
	// The bar comes back at once, throttle or not.
	buf.Reset()
	clock.set(1.01)
	r.Update(60, 0.5)
	if got := buf.String(); !strings.HasPrefix(got, "\repoch 1/2 [======>") {
		t.Fatalf("bar not redrawn after Printf: %q", got)
	}
}

type failingWriter struct{ writes int }

func (w *failingWriter) Write(p []byte) (int, error) {
	w.writes++
	return 0, errors.New("disk full")
}

func TestReporterKeepsFirstWriteError(t *testing.T) {
	w := &failingWriter{}
	r := NewWithConfig(w, 1, Config{Live: LiveOn})
	r.StartEpoch(1, 10)
	r.Update(5, 1)
	r.EndEpoch(nil)
	r.Printf("x")
	if r.Err() == nil || !strings.Contains(r.Err().Error(), "disk full") {
		t.Fatalf("Err() = %v", r.Err())
	}
	if w.writes != 1 {
		t.Errorf("%d writes after the first failure, want none", w.writes-1)
	}
}

func TestReporterLiveDetection(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	tests := []struct {
		name string
		r    *Reporter
		want bool
	}{
		{"file", New(f, 1), false},
		{"pipe", New(pw, 1), false},
		{"buffer", New(&bytes.Buffer{}, 1), false},
		{"forced on", NewWithConfig(f, 1, Config{Live: LiveOn}), true},
		{"forced off", NewWithConfig(f, 1, Config{Live: LiveOff}), false},
	}
	for _, tt := range tests {
		if got := tt.r.IsLive(); got != tt.want {
			t.Errorf("%s: live %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestReporterMisusePanics(t *testing.T) {
	for name, call := range map[string]func(r *Reporter){
		"Update before StartEpoch": func(r *Reporter) { r.Update(1, 0) },
		"EndEpoch twice":           func(r *Reporter) { r.StartEpoch(1, 1); r.EndEpoch(nil); r.EndEpoch(nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			call(New(&bytes.Buffer{}, 1))
		}()
	}
}

func TestFormatting(t *testing.T) {
	values := []struct {
		v    float64
		want string
	}{
		{0.23114, "0.2311"}, {0, "0.0000"}, {1, "1.0000"}, {-0.5, "-0.5000"},
		{0.001, "0.0010"}, {3e-5, "3e-05"}, {1234567, "1.235e+06"}, {12345.678, "12345.6780"},
		{math.NaN(), "nan"}, {math.Inf(1), "inf"}, {math.Inf(-1), "-inf"},
	}
	for _, tt := range values {
		if got := FormatValue(tt.v); got != tt.want {
			t.Errorf("FormatValue(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
	durations := []struct {
		d           time.Duration
		clock, wall string
	}{
		{0, "0:00", "0.0s"},
		{4100 * time.Millisecond, "0:04", "4.1s"},
		{59940 * time.Millisecond, "1:00", "59.9s"},
		{125 * time.Second, "2:05", "2m05s"},
		{3723 * time.Second, "1:02:03", "1h02m03s"},
		{-time.Second, "0:00", "-1.0s"},
	}
	for _, tt := range durations {
		if got := FormatClock(tt.d); got != tt.clock {
			t.Errorf("FormatClock(%v) = %q, want %q", tt.d, got, tt.clock)
		}
		if got := FormatDuration(tt.d); got != tt.wall {
			t.Errorf("FormatDuration(%v) = %q, want %q", tt.d, got, tt.wall)
		}
	}
	for r, want := range map[float64]string{2.46: "2.5", 9.94: "9.9", 10: "10", 312.3: "312"} {
		if got := formatRate(r); got != want {
			t.Errorf("formatRate(%v) = %q, want %q", r, got, want)
		}
	}
	bars := []struct {
		done, total int
		want        string
	}{
		{0, 10, ">         "}, {5, 10, "=====>    "}, {9, 10, "=========>"}, {10, 10, "=========="}, {12, 10, "=========="}, {-1, 10, ">         "},
	}
	for _, tt := range bars {
		if got := bar(tt.done, tt.total, 10); got != tt.want {
			t.Errorf("bar(%d, %d) = %q, want %q", tt.done, tt.total, got, tt.want)
		}
	}
}
