package recommender

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/pflag"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/models/mf"
	"github.com/tapeml/tapeml/recsys"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/train"
)

// Data is a recommender run's data options (train.RunSpec.Data). Keys:
// "data", "items", "skip_malformed", "test_fraction", "leave_last",
// "rank_users".
type Data struct {
	// Path is ratings.csv, u.data or ratings.dat, or a built-in name
	// (default: the synthetic ratings).
	Path          string
	Items         string  // item metadata for titles: movies.csv, u.item or movies.dat
	SkipMalformed bool    // skip malformed rows instead of failing
	TestFraction  float64 // share of the ratings held out for testing (seeded); default 0.2
	LeaveLast     int     // > 0: test on each user's last LeaveLast ratings instead
	// RankUsers bounds the test users the ranking metrics rank (a seeded
	// sample; 0: all); default recsys.DefaultRankUsers.
	RankUsers int
}

// NewData returns the default data options.
func (family) NewData() any {
	return &Data{Path: recsys.BuiltinSample, TestFraction: 0.2, RankUsers: recsys.DefaultRankUsers}
}

// AddFlags binds the data options to command-line flags.
func (d *Data) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&d.Path, "data", d.Path, "ratings: ratings.csv, u.data or ratings.dat; default: the built-in synthetic set")
	fs.StringVar(&d.Items, "items", d.Items, "item metadata for titles: movies.csv, u.item or movies.dat")
	fs.BoolVar(&d.SkipMalformed, "skip-malformed", d.SkipMalformed, "skip malformed rows (and report how many) instead of failing")
	fs.Float64Var(&d.TestFraction, "test-fraction", d.TestFraction, "share of ratings held out for testing (seeded random split)")
	fs.IntVar(&d.LeaveLast, "leave-last", d.LeaveLast, "instead of a random split, test on each user's last K ratings by timestamp")
	fs.IntVar(&d.RankUsers, "rank-users", d.RankUsers, "rank at most this many test users for the ranking metrics (a seeded sample; 0: all)")
}

// AddFlags binds the algorithm and its settings to command-line flags.
// Zero settings take the algorithm's defaults when the run fits it, so the
// flags start at zero.
func (c *Config) AddFlags(fs *pflag.FlagSet) {
	c.MF, c.SVD = &mf.Config{}, &recsys.SVDConfig{}
	c.KNN = &recsys.KNNConfig{Based: recsys.UserBased, Similarity: recsys.Pearson}
	fs.StringVar(&c.Algorithm, "algo", c.Algorithm, "mf (matrix factorization), knn (neighbourhood CF) or svd (truncated SVD)")
	fs.Var(factors{c}, "factors", "mf and svd: latent factors (default: mf 64, svd 20)")
	fs.Float64Var(&c.MF.Reg, "reg", 0, "mf: L2 penalty on the batch's rows (default 0.1)")
	fs.StringVar(&c.KNN.Based, "based", c.KNN.Based, "knn: user or item neighbourhoods")
	fs.StringVar(&c.KNN.Similarity, "similarity", c.KNN.Similarity, "knn: pearson or cosine")
	fs.IntVarP(&c.KNN.K, "k", "k", 0, "knn: neighbours per prediction (default 40)")
}

// factors sets the factors of MF and SVD together.
type factors struct{ c *Config }

func (f factors) String() string {
	if f.c == nil || f.c.MF == nil {
		return "0"
	}
	return strconv.Itoa(f.c.MF.Factors)
}

func (f factors) Set(s string) error {
	n, err := strconv.ParseInt(s, 0, strconv.IntSize)
	if err != nil {
		return err
	}
	f.c.MF.Factors, f.c.SVD.Factors = int(n), int(n)
	return nil
}

func (factors) Type() string { return "int" }

// Training is matrix factorization's training setup (mf.DefaultTraining).
func (c *Config) Training() train.Config { return mf.DefaultTraining() }

// CheckDP refuses DP-SGD for the algorithms that are not networks.
func (c *Config) CheckDP() error {
	if c.Algorithm != "mf" {
		return train.Fieldf("%s trains matrix factorization only (%s mf), not %s %s", train.Field("dp"), train.Field("algo"), train.Field("algo"), c.Algorithm)
	}
	return nil
}

// Settings: recommender runs neither resume nor fine-tune, and train
// matrix factorization with its reference optimizer.
func (family) Settings() train.Settings {
	return train.Settings{Synopsis: "[--algo mf|knn|svd] [--data RATINGS] [--items FILE]", Help: map[train.Field]string{
		"seed":    "seed for the split, initialization and shuffling",
		"epochs":  "mf: passes over the training ratings",
		"batch":   "mf: ratings per step",
		"lr":      "mf: learning rate",
		"out":     "run folder for checkpoints (default runs/recsys-ALGO-TIME)",
		"force":   "train into an --out that holds a run, deleting its checkpoints",
		"threads": "CPU threads (default: all)",
	}}
}

// Check checks the algorithm and the data options.
func (family) Check(s *train.RunSpec) error {
	d, c := s.Data.(*Data), s.Config.(*Config)
	switch {
	case d.Path == "":
		return train.Invalidf("%s is empty: give a ratings file", train.Field("data"))
	case !(d.TestFraction > 0 && d.TestFraction < 1):
		return train.Invalidf("%s must be between 0 and 1, got %v", train.Field("test_fraction"), d.TestFraction)
	case d.LeaveLast < 0:
		return train.Invalidf("%s must not be negative, got %d", train.Field("leave_last"), d.LeaveLast)
	case c.Algorithm != "mf" && c.Algorithm != "knn" && c.Algorithm != "svd":
		return train.Invalidf("%s %q: want mf, knn or svd", train.Field("algo"), c.Algorithm)
	}
	return nil
}

// Prepare reads and splits the ratings, maps the ids, and sets up the
// algorithm: matrix factorization trains on nine tenths of the training
// ratings, validated on the rest; kNN and SVD fit directly.
func (family) Prepare(ctx context.Context, p *train.Plan) (*train.Prepared, error) {
	d, tc, w := p.Data.(*Data), p.Training, p.Progress
	spec := p.Config.(*Config)
	src := Source{Path: d.Path, Items: d.Items, SkipMalformed: d.SkipMalformed, TestFraction: d.TestFraction, LeaveLast: d.LeaveLast, Seed: tc.Seed}
	readStart := time.Now()
	data, builtin, report, err := src.Load()
	if err != nil {
		return nil, err
	}
	cat, err := src.Catalog(builtin)
	if err != nil {
		return nil, err
	}
	trainR, testR, err := src.Split(data)
	if err != nil {
		return nil, err
	}
	m, err := recsys.NewMatrix(trainR, data.NumUsers(), data.NumItems())
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "ratings %s: %s; %d users, %d items; %d train, %d test (read and split in %s)\n",
		src.Path, report, data.NumUsers(), data.NumItems(), len(trainR), len(testR), time.Since(readStart).Round(time.Millisecond))
	extra, err := Files(trainR, data, cat)
	if err != nil {
		return nil, err
	}
	run := Run{Algo: spec.Algorithm, Data: src, Scale: data.Scale}
	prep := &train.Prepared{Info: train.RunInfo{Preprocessing: IDs{Users: data.Users, Items: data.Items}}, Extra: extra}
	var rec recsys.Recommender
	test := func(ctx context.Context, fitTime time.Duration) (*train.TestResult, error) {
		fmt.Fprintf(w, "fitted %s in %s\n", spec.Algorithm, fitTime.Round(time.Millisecond))
		ec := recsys.EvalConfig{RankUsers: d.RankUsers, Seed: tc.Seed}
		start := time.Now()
		rep, err := recsys.Evaluate(rec, m, testR, ec)
		if err != nil {
			return nil, err
		}
		evalTime := time.Since(start)
		base, err := recsys.Evaluate(recsys.FitPopularity(m, data.Scale), m, testR, ec)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(w, "evaluated in %s\n", evalTime.Round(time.Millisecond))
		fmt.Fprintf(w, "test (n=%d): %s\n", rep.N, rep)
		fmt.Fprintf(w, "popularity baseline: %s\n", base)
		return &train.TestResult{N: rep.N, Metrics: rep.Named(), Baseline: &train.Baseline{Name: "popularity", Metric: metrics.Named{Name: "rmse", Value: base.RMSE}}}, nil
	}
	switch spec.Algorithm {
	case "mf":
		cfg := mf.FitConfig(data, trainR)
		if tc.DP != nil {
			// The training mean would be an un-noised statistic of the data.
			cfg.GlobalMean = (data.Scale.Min + data.Scale.Max) / 2
		}
		if spec.MF != nil {
			if spec.MF.Factors > 0 {
				cfg.Factors = spec.MF.Factors
			}
			if spec.MF.Reg > 0 {
				cfg.Reg = spec.MF.Reg
			}
		}
		run.MF = &cfg
		// A tenth of the training ratings picks the best epoch; the test
		// split stays unseen until the end.
		fitR, valR, err := recsys.RandomSplit(trainR, 0.1, tc.Seed+1)
		if err != nil {
			return nil, err
		}
		prep.Config = &Config{Algorithm: "mf", MF: &cfg}
		prep.Train, prep.Val = mf.Dataset(fitR), mf.Dataset(valR)
		prep.Summary = func(params int) string {
			return fmt.Sprintf("mf: %d factors, %d parameters; %d epochs, batch %d, %s lr %g (validation: %d of the training ratings)",
				cfg.Factors, params, tc.Epochs, tc.Batch, tc.Optimizer.Name, tc.LR, len(valR))
		}
		prep.Test = func(ctx context.Context, best *checkpoint.Checkpoint, fitTime time.Duration) (*train.TestResult, error) {
			if rec, err = mf.NewRecommender(best.Weights, cfg, m); err != nil {
				return nil, err
			}
			return test(ctx, fitTime)
		}
	case "knn", "svd":
		if spec.Algorithm == "knn" {
			cfg := recsys.KNNConfig{}
			if spec.KNN != nil {
				cfg = *spec.KNN
			}
			cfg = cfg.WithDefaults()
			run.KNN = &cfg
		} else {
			cfg := recsys.SVDConfig{}
			if spec.SVD != nil {
				cfg = *spec.SVD
			}
			cfg = cfg.WithDefaults()
			run.SVD = &cfg
		}
		prep.Config = &Config{Algorithm: spec.Algorithm, KNN: run.KNN, SVD: run.SVD}
		prep.Fit = func(ctx context.Context) ([]safetensors.Tensor, error) {
			if run.KNN != nil {
				k, err := recsys.FitKNN(m, data.Scale, *run.KNN)
				rec = k
				if err != nil {
					return nil, err
				}
				return k.Tensors(), nil
			}
			sv, err := recsys.FitSVD(m, data.Scale, *run.SVD)
			rec = sv
			if err != nil {
				return nil, err
			}
			return sv.Tensors(), nil
		}
		prep.Test = func(ctx context.Context, _ *checkpoint.Checkpoint, fitTime time.Duration) (*train.TestResult, error) {
			return test(ctx, fitTime)
		}
	default:
		return nil, train.Invalidf("%s %q: want mf, knn or svd", train.Field("algo"), spec.Algorithm)
	}
	prep.Info.Config = run
	return prep, nil
}
