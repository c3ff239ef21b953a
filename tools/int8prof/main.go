// Command int8prof times a float32 run and its int8 copy (tapeml optimize
// --int8) at batch 32 on the run's own test split, in interleaved rounds,
// and writes a CPU profile of each model's share of each round: where an
// int8 model's time goes, next to its float32 model's.
//
//	go run ./tools/int8prof -float runs/tx -int8 runs/tx-int8 [-rounds 3] [-seconds 3] [-out prof/]
//	go tool pprof -top -cum prof/int8-*.prof
//
// Each round runs Model.Forward over the test split's batches of 32 for
// -seconds, first the float32 model, then the int8 one, each under its own
// profile (-out/float-R.prof, -out/int8-R.prof; pprof merges the rounds
// given together); the throughputs printed are the medians of the rounds.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/internal/core"
	"github.com/tapeml/tapeml/kinds"
	_ "github.com/tapeml/tapeml/models/all"
	_ "github.com/tapeml/tapeml/samples"
)

func main() {
	f32 := flag.String("float", "", "float32 checkpoint or run folder")
	i8 := flag.String("int8", "", "its int8 checkpoint")
	rounds := flag.Int("rounds", 3, "interleaved rounds")
	secs := flag.Float64("seconds", 3, "seconds per model and round")
	out := flag.String("out", "prof", "folder of the profiles")
	flag.Parse()
	if err := run(*f32, *i8, *out, *rounds, *secs); err != nil {
		fmt.Fprintln(os.Stderr, "int8prof:", err)
		os.Exit(1)
	}
}

func run(f32, i8, out string, rounds int, secs float64) error {
	if f32 == "" || i8 == "" || rounds < 1 || !(secs > 0) || secs > 600 {
		return fmt.Errorf("need -float and -int8, -rounds ≥ 1 and -seconds in (0, 600]")
	}
	ctx := context.Background()
	var models []*tapeml.Model
	for _, path := range []string{f32, i8} {
		m, err := tapeml.LoadWithOptions(path, tapeml.Options{MaxBatch: 32})
		if err != nil {
			return err
		}
		if err := m.Warmup(ctx); err != nil {
			return err
		}
		models = append(models, m)
	}
	sp, ok := core.Unwrap(models[0]).Loaded.Codec.(kinds.Splitter)
	if !ok {
		return fmt.Errorf("%s cannot read its data again", f32)
	}
	_, _, test, err := sp.Splits(ctx)
	if err != nil {
		return err
	}
	if test == nil || test.Len() < 32 {
		return fmt.Errorf("%s: the test split has fewer than 32 examples", f32)
	}
	inputs, _, n, err := dataset.Head(test, test.Len())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	names := []string{"float", "int8"}
	thr := make([][]float64, 2)
	for r := range rounds {
		for i, m := range models {
			f, err := os.Create(filepath.Join(out, fmt.Sprintf("%s-%d.prof", names[i], r)))
			if err != nil {
				return err
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
			start, ex := time.Now(), 0
			for time.Since(start).Seconds() < secs {
				for b := 0; b+32 <= n; b += 32 {
					batch := make([][]float32, len(inputs))
					for k, in := range inputs {
						w := len(in) / n
						batch[k] = in[b*w : (b+32)*w]
					}
					if _, err := m.Forward(ctx, batch, 32); err != nil {
						pprof.StopCPUProfile()
						return err
					}
					ex += 32
				}
			}
			thr[i] = append(thr[i], float64(ex)/time.Since(start).Seconds())
			pprof.StopCPUProfile()
			if err := f.Close(); err != nil {
				return err
			}
		}
	}
	for i := range thr {
		slices.Sort(thr[i])
	}
	mf, mi := thr[0][len(thr[0])/2], thr[1][len(thr[1])/2]
	fmt.Printf("batch 32, %d rounds of %gs: float32 %.1f ex/s, int8 %.1f ex/s (medians), int8/float32 %.2f×\n", rounds, secs, mf, mi, mi/mf)
	return nil
}
