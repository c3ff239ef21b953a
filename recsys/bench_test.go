package recsys_test

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/tapeml/tapeml/recsys"
	"github.com/tapeml/tapeml/tools/synth"
)

// The scale benchmarks run on synth.MovieLens1MLike (1,000,209 ratings), e.g.
//
//	go test -run '^$' -bench 1M -benchtime 1x ./recsys
//
// and report the peak heap in use (peak-heap-MiB; /usr/bin/time -v gives
// the process's maximum resident set).

var (
	once1M  sync.Once
	data1M  *recsys.Dataset
	file1M  string
	error1M error
)

func synth1M(b *testing.B) (*recsys.Dataset, string) {
	once1M.Do(func() {
		data1M, error1M = synth.Synthesize(synth.MovieLens1MLike())
		if error1M != nil {
			return
		}
		dir, err := os.MkdirTemp("", "recsys-bench")
		if err != nil {
			error1M = err
			return
		}
		file1M = filepath.Join(dir, "ratings.csv")
		f, err := os.Create(file1M)
		if err != nil {
			error1M = err
			return
		}
		w := bufio.NewWriter(f)
		if error1M = recsys.WriteCSV(w, data1M); error1M == nil {
			error1M = w.Flush()
		}
		f.Close()
	})
	if error1M != nil {
		b.Fatal(error1M)
	}
	return data1M, file1M
}

// peakHeap samples the heap in use while f runs.
func peakHeap(b *testing.B, f func()) {
	runtime.GC()
	done := make(chan struct{})
	var peak uint64
	go func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	f()
	close(done)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(max(peak, ms.HeapInuse))/(1<<20), "peak-heap-MiB")
}

func BenchmarkReadRatings1M(b *testing.B) {
	_, path := synth1M(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		peakHeap(b, func() {
			d, _, err := recsys.ReadRatings(path, recsys.ReadOptions{})
			if err != nil || len(d.Ratings) != 1000209 {
				b.Fatal(err)
			}
		})
	}
}

func BenchmarkKNNSimilarity1M(b *testing.B) {
	d, _ := synth1M(b)
	m, err := recsys.NewMatrix(d.Ratings, d.NumUsers(), d.NumItems())
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		peakHeap(b, func() {
			if _, err := recsys.FitKNN(m, d.Scale, recsys.KNNConfig{}); err != nil {
				b.Fatal(err)
			}
		})
	}
}

func BenchmarkSVD1M(b *testing.B) {
	d, _ := synth1M(b)
	m, err := recsys.NewMatrix(d.Ratings, d.NumUsers(), d.NumItems())
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		peakHeap(b, func() {
			if _, err := recsys.FitSVD(m, d.Scale, recsys.SVDConfig{}); err != nil {
				b.Fatal(err)
			}
		})
	}
}
