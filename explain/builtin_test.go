package explain_test

import (
	"context"
	"flag"
	"math"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/explain"
	"github.com/tapeml/tapeml/imageclass"
	"github.com/tapeml/tapeml/internal/core"
	"github.com/tapeml/tapeml/textclass"
)

// explainRuns points the completeness acceptance test at trained run
// folders: DIR/textcnn, DIR/lstm and DIR/convnet, made on the built-in
// samples by
//
//	go run ./cmd/tapeml train textcnn --out DIR/textcnn
//	go run ./cmd/tapeml train lstm --epochs 3 --out DIR/lstm
//	go run ./cmd/tapeml train convnet --out DIR/convnet
//
// (about 5 minutes on 2 cores), then
//
//	go test -run BuiltinCompleteness -explain.runs DIR -v .
var explainRuns = flag.String("explain.runs", "", "folder with textcnn, lstm and convnet runs trained on the built-in samples (TestBuiltinCompleteness)")

// Completeness within 1% (|delta| ≤ 1% of |f(x) − f(baseline)|) of IG by
// the adaptive quadrature at its default budget (DefaultMaxSteps
// evaluations per input), on 100 test inputs of each built-in run: at
// least 98% of the TextCNN's texts with its default (padding) baseline,
// 95% of the BiLSTM's, and every one of the ConvNet's images. The median
// and largest evaluations used are logged, and, for comparison, the
// fixed 50-point Gauss–Legendre rule's share (not asserted: on the
// BiLSTM it was 28%, its recurrence having transitions 10⁻⁴ wide along
// the path that no fixed rule resolves).
func TestBuiltinCompleteness(t *testing.T) {
	if *explainRuns == "" {
		t.Skip("needs -explain.runs DIR with trained runs (see explainRuns)")
	}
	ctx := context.Background()
	report := func(t *testing.T, ex []explain.Attribution, want int, share float64) {
		t.Helper()
		ok := 0
		var rel []float64
		var evals, evals64 []int
		for _, a := range ex {
			if a.Converged() {
				ok++
			}
			rel = append(rel, a.RelativeDelta())
			evals = append(evals, a.Evaluations)
			if a.Evaluations64 > 0 {
				evals64 = append(evals64, a.Evaluations64)
			}
		}
		sort.Float64s(rel)
		sort.Ints(evals)
		sort.Ints(evals64)
		rate := float64(ok) / float64(len(rel))
		t.Logf("%d inputs: %.1f%% within 1%%; relative |delta| median %.2g, 95th percentile %.2g, max %.2g; evaluations median %d, max %d",
			len(rel), 100*rate, rel[len(rel)/2], rel[len(rel)*95/100], rel[len(rel)-1], evals[len(evals)/2], evals[len(evals)-1])
		if len(evals64) > 0 {
			t.Logf("%d inputs refined in float64, with float64 evaluations median %d, max %d", len(evals64), evals64[len(evals64)/2], evals64[len(evals64)-1])
		}
		if share > 0 && (len(rel) < want || rate < share) {
			t.Errorf("%d of %d inputs complete within 1%%, want ≥ %.0f%% of %d", ok, len(rel), 100*share, want)
		}
	}
	adaptive := explain.Options{}
	fixed := explain.Options{Quadrature: explain.QuadratureGauss, Steps: 50}
	for _, c := range []struct {
		kind, rule string
		opts       explain.Options
		share      float64
	}{
		{"textcnn", "adaptive", adaptive, 0.98},
		{"textcnn", "gauss-50", fixed, 0},
		{"lstm", "adaptive", adaptive, 0.95},
		{"lstm", "gauss-50", fixed, 0},
	} {
		t.Run(c.kind+"/"+c.rule, func(t *testing.T) {
			m, err := tapeml.Load(filepath.Join(*explainRuns, c.kind))
			if err != nil {
				t.Fatal(err)
			}
			corpus, err := core.Unwrap(m).Loaded.Codec.(*textclass.Codec).Run().Data.Load()
			if err != nil {
				t.Fatal(err)
			}
			var ex []explain.Attribution
			skipped := 0
			for _, e := range corpus.Test {
				if len(ex) == 100 {
					break
				}
				r, err := explain.Texts(ctx, m, []string{e.Text}, c.opts)
				if err != nil { // a text without a known word
					skipped++
					continue
				}
				ex = append(ex, r[0].Attribution)
				if testing.Verbose() {
					t.Logf("input %d: relative |delta| %.2g, %d evaluations (%d in float64), jump %.3g at α %.10g", len(ex)-1, r[0].RelativeDelta(), r[0].Evaluations, r[0].Evaluations64, r[0].Jump, r[0].JumpAt)
				}
			}
			if skipped > 0 {
				t.Logf("skipped %d test texts without a word in the vocabulary", skipped)
			}
			report(t, ex, 100, c.share)
		})
	}
	for _, c := range []struct {
		rule  string
		opts  explain.Options
		share float64
	}{{"adaptive", adaptive, 1}, {"gauss-50", fixed, 0}} {
		t.Run("convnet/"+c.rule, func(t *testing.T) {
			m, err := tapeml.Load(filepath.Join(*explainRuns, "convnet"))
			if err != nil {
				t.Fatal(err)
			}
			set, err := core.Unwrap(m).Loaded.Codec.(*imageclass.Codec).Run().Data.Load()
			if err != nil {
				t.Fatal(err)
			}
			test := set.Test
			n := min(100, test.Len())
			raw := make([]float32, n*test.Size())
			for i := range raw {
				raw[i] = float32(test.Pixels[i])
			}
			res, err := explain.Pixels(ctx, m, raw, n, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			ex := make([]explain.Attribution, len(res))
			for i, e := range res {
				ex[i] = e.Attribution
			}
			report(t, ex, 100, c.share)
		})
	}
}

// The model-randomization sanity check (Adebayo et al. 2018) on the
// built-in TextCNN: IG maps of 100 test texts against those of the same
// model with its top layers (conv, fc) re-initialized have a mean Spearman
// rank correlation below 0.5, for each of five seeds of the fresh weights.
func TestBuiltinSanity(t *testing.T) {
	if *explainRuns == "" {
		t.Skip("needs -explain.runs DIR with trained runs (see explainRuns)")
	}
	ctx := context.Background()
	m, err := tapeml.Load(filepath.Join(*explainRuns, "textcnn"))
	if err != nil {
		t.Fatal(err)
	}
	corpus, err := core.Unwrap(m).Loaded.Codec.(*textclass.Codec).Run().Data.Load()
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, e := range corpus.Test {
		if len(texts) == 100 {
			break
		}
		if _, err := explain.Texts(ctx, m, []string{e.Text}, explain.Options{Method: explain.MethodSaliency}); err == nil {
			texts = append(texts, e.Text)
		}
	}
	trained, err := explain.Texts(ctx, m, texts, explain.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for layers := 1; layers < len(explain.Layers(m)); layers++ {
		for seed := uint64(1); seed <= 5; seed++ {
			r, err := explain.Randomized(m, layers, seed)
			if err != nil {
				t.Fatal(err)
			}
			random, err := explain.Texts(ctx, r, texts, explain.Options{})
			if err != nil {
				t.Fatal(err)
			}
			sum, n := 0.0, 0
			for i := range trained {
				a, b := make([]float64, len(trained[i].Tokens)), make([]float64, len(trained[i].Tokens))
				for j := range a {
					a[j], b[j] = trained[i].Tokens[j].Score, random[i].Tokens[j].Score
				}
				if rho := explain.Spearman(a, b); !math.IsNaN(rho) {
					sum += rho
					n++
				}
			}
			mean := sum / float64(n)
			t.Logf("top %d layers %v re-initialized, seed %d: mean Spearman %.3f over %d texts", layers, explain.Layers(m)[len(explain.Layers(m))-layers:], seed, mean, n)
			if mean >= 0.5 {
				t.Errorf("mean Spearman %.3f, want < 0.5", mean)
			}
		}
	}
}

// What the adaptive rule's float64 twin costs on the built-in BiLSTM:
// memory once built and once run, and a run's time against a float32
// machine's, on rows of the first test text (logged, not asserted).
func TestBuiltinTwin(t *testing.T) {
	if *explainRuns == "" {
		t.Skip("needs -explain.runs DIR with trained runs (see explainRuns)")
	}
	m, err := tapeml.Load(filepath.Join(*explainRuns, "lstm"))
	if err != nil {
		t.Fatal(err)
	}
	corpus, err := core.Unwrap(m).Loaded.Codec.(*textclass.Codec).Run().Data.Load()
	if err != nil {
		t.Fatal(err)
	}
	c, err := explain.MeasureTwin(m, corpus.Test[0].Text)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("float64 twin: built in %v, heap +%.0f MB built, +%.0f MB run; a run of %d float64 rows %v (%.3g ms a row), of %d float32 rows %v (%.3g ms a row)",
		c.Build.Round(time.Millisecond), c.BuiltMB, c.RunMB, c.Rows64, c.Run64.Round(time.Millisecond), float64(c.Run64.Microseconds())/1e3/float64(c.Rows64),
		c.Rows32, c.Run32.Round(time.Millisecond), float64(c.Run32.Microseconds())/1e3/float64(c.Rows32))
}
