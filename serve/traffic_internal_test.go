package serve

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tapeml/tapeml/api"
	"github.com/tapeml/tapeml/tapemltest"
)

// TestShadowBudget checks the bounds of shadow copies: a copy over the
// server's limits for the shadow version is not run (counted as limit),
// a copy beyond ShadowConcurrency is skipped (busy), a copy within both
// is answered, and stopping the server cancels the copies' contexts.
func TestShadowBudget(t *testing.T) {
	dir := t.TempDir()
	for _, v := range []string{"1", "2"} {
		src, err := tapemltest.SmallConvNet(t.TempDir(), 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, "digits"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(src, filepath.Join(dir, "digits", v)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "digits", "config.json"), []byte(`{"version_policy": {"specific": {"versions": [1]}}, "shadow": 2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := New(context.Background(), Config{Models: dir, Poll: -1, ShadowConcurrency: 1, Limits: Limits{Instances: 4},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.man.Close()
	sel := splitBy(selector{}, "")
	v, err := s.man.acquire("digits", sel)
	if err != nil {
		t.Fatal(err)
	}
	defer v.release()
	if v.num != 1 {
		t.Fatalf("a request naming no version got version %d, want 1", v.num)
	}
	images := func(n int) []api.Tensor {
		return []api.Tensor{{Name: "images", Datatype: api.FP32, Shape: []int64{int64(n), 1, 8, 8}, FP32: make([]float32, n*64)}}
	}
	counter := func(reason string) float64 {
		return testutil.ToFloat64(s.routing.skipped.WithLabelValues("digits", reason))
	}
	answered := func() float64 { return testutil.ToFloat64(s.routing.shadowed.WithLabelValues("digits", "2")) }
	// wait polls until f holds: the copies run in the background.
	wait := func(what string, f func() bool) {
		t.Helper()
		for range 500 {
			if f() {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("%s: not after 5 s", what)
	}
	ctx := withRequestID(context.Background(), "test-1")

	// Over the limits (8 instances, at most 4): not run.
	s.shadow(ctx, sel, v, images(8), nil)
	wait("over the limit", func() bool { return counter("limit") == 1 })
	// Beyond ShadowConcurrency: skipped at once.
	s.shadowSlots <- struct{}{}
	s.shadow(ctx, sel, v, images(2), nil)
	if counter("busy") != 1 {
		t.Fatalf("busy %v, want 1", counter("busy"))
	}
	<-s.shadowSlots
	// A request naming a version is not copied.
	s.shadow(ctx, selector{num: 1}, v, images(2), nil)
	// Within both: answered.
	out, err := infer(ctx, v, images(2))
	if err != nil {
		t.Fatal(err)
	}
	s.shadow(ctx, sel, v, images(2), out)
	wait("a copy within the bounds", func() bool { return answered() >= 1 && len(s.shadowSlots) == 0 })
	if answered() != 1 {
		t.Fatalf("%v copies answered, want 1 (the request naming a version is not copied)", answered())
	}
	if got := testutil.ToFloat64(s.routing.examples.WithLabelValues("digits", "2")); got != 2 {
		t.Fatalf("%v examples compared, want 2", got)
	}
	if counter("failed") != 0 || counter("limit") != 1 || counter("busy") != 1 {
		t.Fatalf("skipped: failed %v, limit %v, busy %v", counter("failed"), counter("limit"), counter("busy"))
	}
	// Shutdown cancels the copies' contexts.
	s.stopShadows()
	if s.shadowCtx.Err() == nil {
		t.Fatal("the shadow context outlives stopShadows")
	}
}
