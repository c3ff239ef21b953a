package recommender

import (
	"context"
	"fmt"
	"io"
	"math"
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
// "time_split", "implicit_threshold", "rank_users", "k".
type Data struct {
	// Path is ratings.csv, u.data or ratings.dat, an interaction log
	// (a CSV of user, item and optionally count and timestamp), or a
	// built-in name (default: the synthetic ratings).
	Path          string
	Items         string  // item metadata for titles: movies.csv, u.item or movies.dat
	SkipMalformed bool    // skip malformed rows instead of failing
	TestFraction  float64 // share of the ratings held out for testing (seeded); default 0.2
	LeaveLast     int     // > 0: test on each user's last LeaveLast ratings instead
	TimeSplit     bool    // test on the latest TestFraction of the ratings by time instead
	// ImplicitThreshold turns ratings into interactions for ials and bpr:
	// the ratings of at least it (0: recsys.DefaultRelevance). An
	// interaction log takes none.
	ImplicitThreshold float64
	// RankUsers bounds the test users the ranking metrics rank (a seeded
	// sample; 0: all); default recsys.DefaultRankUsers.
	RankUsers int
	// K is the ranking metrics' list length; default 10.
	K int
}

// NewData returns the default data options.
func (family) NewData() any {
	return &Data{Path: recsys.BuiltinSample, TestFraction: 0.2, RankUsers: recsys.DefaultRankUsers, K: 10}
}

// AddFlags binds the data options to command-line flags.
func (d *Data) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&d.Path, "data", d.Path, "ratings (ratings.csv, u.data or ratings.dat) or an interaction log (a CSV of user, item and optionally count, timestamp); default: the built-in synthetic ratings")
	fs.StringVar(&d.Items, "items", d.Items, "item metadata for titles: movies.csv, u.item or movies.dat")
	fs.BoolVar(&d.SkipMalformed, "skip-malformed", d.SkipMalformed, "skip malformed rows (and report how many) instead of failing")
	fs.Float64Var(&d.TestFraction, "test-fraction", d.TestFraction, "share of ratings held out for testing (seeded random split)")
	fs.IntVar(&d.LeaveLast, "leave-last", d.LeaveLast, "instead of a random split, test on each user's last K ratings by timestamp")
	fs.BoolVar(&d.TimeSplit, "time-split", d.TimeSplit, "instead of a random split, test on the latest --test-fraction of the ratings by timestamp")
	fs.Float64Var(&d.ImplicitThreshold, "implicit-threshold", d.ImplicitThreshold, "ials and bpr on ratings: the ratings of at least this become interactions (default 4)")
	fs.IntVar(&d.RankUsers, "rank-users", d.RankUsers, "rank at most this many test users for the ranking metrics (a seeded sample; 0: all)")
	fs.IntVar(&d.K, "k", d.K, "length of the ranked lists the ranking metrics score (precision@k, recall@k, ndcg@k, map@k, hit_rate@k)")
}

// AddFlags binds the algorithm and its settings to command-line flags.
// Zero settings take the algorithm's defaults when the run fits it, so the
// flags start at zero.
func (c *Config) AddFlags(fs *pflag.FlagSet) {
	c.MF, c.SVD = &mf.Config{}, &recsys.SVDConfig{}
	c.IALS, c.BPR = &recsys.IALSConfig{}, &recsys.BPRConfig{}
	c.KNN = &recsys.KNNConfig{Based: recsys.UserBased, Similarity: recsys.Pearson}
	fs.StringVar(&c.Algorithm, "algo", c.Algorithm, "on ratings: mf (matrix factorization), knn (neighbourhood CF) or svd (truncated SVD); on interactions: ials (implicit ALS) or bpr (Bayesian personalized ranking)")
	fs.StringVar(&c.Solver, "solver", "", "mf: als (alternating least squares) or sgd (the network, trained by Adam; DP-SGD with --dp); default als, sgd with --dp, --lr or --batch")
	m, s, i, b, a := mf.Config{}.WithDefaults(), recsys.SVDConfig{}.WithDefaults(), recsys.IALSConfig{}.WithDefaults(), recsys.BPRConfig{}.WithDefaults(), recsys.ALSConfig{}.WithDefaults()
	fs.Var(factors{c}, "factors", fmt.Sprintf("mf, svd, ials and bpr: latent factors (default: mf %d, svd %d, ials %d, bpr %d)", m.Factors, s.Factors, i.Factors, b.Factors))
	fs.Var(reg{c}, "reg", fmt.Sprintf("mf, ials and bpr: L2 penalty (default: mf %g per rating, ials %g scaled by each row's weight, bpr %g)", m.Reg, i.Reg, b.Reg))
	fs.Float64Var(&c.IALS.Alpha, "alpha", 0, fmt.Sprintf("ials: confidence of an interaction, c = 1 + alpha·weight (default: %g · users · items / total weight, so that sparser data weigh each interaction more)", recsys.ConfidenceShare))
	steps := strconv.Itoa(a.CGSteps)
	if a.CGSteps != i.CGSteps {
		steps = fmt.Sprintf("mf %d, ials %d", a.CGSteps, i.CGSteps)
	}
	fs.Var(cgSteps{c}, "cg-steps", "mf (als) and ials: conjugate gradient steps per user or item and half-step (default "+steps+")")
	fs.StringVar(&c.BPR.Negatives, "negatives", "", fmt.Sprintf("bpr: negative items drawn uniform or by popularity (default %s)", b.Negatives))
	fs.IntVar(&c.BPR.Candidates, "candidates", 0, fmt.Sprintf("bpr: each negative is the highest-scored of this many draws (dynamic negative sampling; default %d)", b.Candidates))
	fs.Float64Var(&c.BPR.Average, "average", 0, fmt.Sprintf("bpr: keep the moving average of the epochs' factors, with this weight (0 to 1) on the past (default %g when more than %d items have interactions, else the last epoch's)", recsys.WideAverage, recsys.WideItems))
	fs.StringVar(&c.KNN.Based, "based", c.KNN.Based, "knn: user or item neighbourhoods")
	fs.StringVar(&c.KNN.Similarity, "similarity", c.KNN.Similarity, "knn: pearson or cosine")
	fs.IntVar(&c.KNN.K, "neighbours", 0, "knn: neighbours per prediction (default 40)")
}

// factors sets the factors of every factor model together.
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
	f.c.MF.Factors, f.c.SVD.Factors, f.c.IALS.Factors, f.c.BPR.Factors = int(n), int(n), int(n), int(n)
	return nil
}

func (factors) Type() string { return "int" }

// reg sets the penalty of MF, iALS and BPR together.
type reg struct{ c *Config }

func (r reg) String() string {
	if r.c == nil || r.c.MF == nil {
		return "0"
	}
	return strconv.FormatFloat(r.c.MF.Reg, 'g', -1, 64)
}

func (r reg) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return err
	}
	r.c.MF.Reg, r.c.IALS.Reg, r.c.BPR.Reg = v, v, v
	return nil
}

func (reg) Type() string { return "float" }

// cgSteps sets the conjugate gradient steps of MF's ALS and of iALS; MF's
// are kept in the iALS configuration until the run settles ALS's.
type cgSteps struct{ c *Config }

func (s cgSteps) String() string {
	if s.c == nil || s.c.IALS == nil {
		return "0"
	}
	return strconv.Itoa(s.c.IALS.CGSteps)
}

func (s cgSteps) Set(v string) error {
	n, err := strconv.ParseInt(v, 0, strconv.IntSize)
	if err != nil {
		return err
	}
	s.c.IALS.CGSteps = int(n)
	return nil
}

func (cgSteps) Type() string { return "int" }

// Training is matrix factorization's training setup (mf.DefaultTraining).
func (c *Config) Training() train.Config { return mf.DefaultTraining() }

// CheckDP refuses DP-SGD for what is not MF trained by SGD.
func (c *Config) CheckDP() error {
	if c.Algorithm != AlgoMF {
		return train.Fieldf("%s trains matrix factorization only (%s mf), not %s %s", train.Field("dp"), train.Field("algo"), train.Field("algo"), c.Algorithm)
	}
	if c.Solver == SolverALS {
		return train.Fieldf("%s trains matrix factorization by SGD: drop %s %s", train.Field("dp"), train.Field("solver"), c.Solver)
	}
	return nil
}

// Settings: recommender runs neither resume nor fine-tune, and train
// matrix factorization with its reference optimizer.
func (family) Settings() train.Settings {
	return train.Settings{Synopsis: "[--algo mf|knn|svd|ials|bpr] [--data RATINGS] [--items FILE]", Help: map[train.Field]string{
		"seed": "seed for the split, initialization and shuffling",
		"epochs": fmt.Sprintf("mf: alternations (als, default %d) or passes (sgd, default %d); ials: alternations (default %d); bpr: at most this many passes, stopped early by validation NDCG (default %d)",
			DefaultALSIterations, mf.DefaultTraining().Epochs, recsys.IALSConfig{}.WithDefaults().Iterations, recsys.BPRConfig{}.WithDefaults().Epochs),
		"batch": "mf (sgd): ratings per step",
		"lr": fmt.Sprintf("mf (sgd, default %g) and bpr (default %g; %g on more than %d items with interactions): learning rate",
			mf.DefaultTraining().LR, recsys.BPRConfig{}.WithDefaults().LR, recsys.WideLR, recsys.WideItems),
		"out":     "run folder for checkpoints (default runs/recsys-ALGO-TIME)",
		"force":   "train into an --out that holds a run, deleting its checkpoints",
		"threads": "CPU threads (default: all); the same seed and thread count give the same model",
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
	case d.LeaveLast > 0 && d.TimeSplit:
		return train.Fieldf("%s and %s exclude each other: give one", train.Field("leave_last"), train.Field("time_split"))
	case d.K < 1 || d.K > MaxTopN:
		return train.Invalidf("%s must be 1 to %d, got %d", train.Field("k"), MaxTopN, d.K)
	case math.IsNaN(d.ImplicitThreshold) || math.IsInf(d.ImplicitThreshold, 0):
		return train.Invalidf("%s must be a rating, got %v", train.Field("implicit_threshold"), d.ImplicitThreshold)
	case !knownAlgo(c.Algorithm):
		return train.Invalidf("%s %q: want %s", train.Field("algo"), c.Algorithm, Algos)
	case d.ImplicitThreshold != 0 && !implicitAlgo(c.Algorithm):
		return train.Fieldf("%s turns ratings into interactions for %s ials and bpr; %s %s predicts ratings", train.Field("implicit_threshold"), train.Field("algo"), train.Field("algo"), c.Algorithm)
	case c.Solver != "" && c.Algorithm != AlgoMF:
		return train.Fieldf("%s is mf's: drop it for %s %s", train.Field("solver"), train.Field("algo"), c.Algorithm)
	case c.Solver != "" && c.Solver != SolverALS && c.Solver != SolverSGD:
		return train.Invalidf("%s %q: want als or sgd", train.Field("solver"), c.Solver)
	}
	return nil
}

// Prepare reads and splits the ratings, maps the ids, and sets up the
// algorithm: matrix factorization trains on nine tenths of the training
// ratings, validated on the rest; the other algorithms fit directly.
func (family) Prepare(ctx context.Context, p *train.Plan) (*train.Prepared, error) {
	d, tc, w := p.Data.(*Data), p.Training, p.Progress
	spec := p.Config.(*Config)
	src := Source{Path: d.Path, Items: d.Items, SkipMalformed: d.SkipMalformed, TestFraction: d.TestFraction,
		LeaveLast: d.LeaveLast, TimeSplit: d.TimeSplit, Seed: tc.Seed}
	readStart := time.Now()
	data, builtin, report, err := src.load()
	if err != nil {
		return nil, err
	}
	implicit := implicitAlgo(spec.Algorithm)
	switch {
	case data.Implicit && !implicit:
		return nil, train.Fieldf("%s is an interaction log, and %s %s predicts ratings: train %s ials or bpr on it", src.Path, train.Field("algo"), spec.Algorithm, train.Field("algo"))
	case data.Implicit && d.ImplicitThreshold != 0:
		return nil, train.Fieldf("%s is an interaction log already: drop %s", src.Path, train.Field("implicit_threshold"))
	case implicit && !data.Implicit:
		src.Threshold = d.ImplicitThreshold
		if src.Threshold == 0 {
			src.Threshold = recsys.DefaultRelevance
		}
		if data, err = recsys.Interactions(data, src.Threshold); err != nil {
			return nil, err
		}
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
	what := "ratings"
	if implicit {
		what = "interactions"
		if src.Threshold != 0 {
			what = fmt.Sprintf("interactions (the ratings of at least %v)", src.Threshold)
		}
	}
	fmt.Fprintf(w, "%s %s: %s; %d users, %d items; %d train, %d test (read and split in %s)\n",
		what, src.Path, report, data.NumUsers(), data.NumItems(), len(trainR), len(testR), time.Since(readStart).Round(time.Millisecond))
	extra, err := Files(trainR, data, cat)
	if err != nil {
		return nil, err
	}
	run := Run{Algo: spec.Algorithm, Data: src, Scale: data.Scale, Implicit: implicit, K: d.K}
	prep := &train.Prepared{Info: train.RunInfo{Preprocessing: IDs{Users: data.Users, Items: data.Items}}, Extra: extra}
	t := &tester{w: w, m: m, test: testR, scale: data.Scale, ec: recsys.EvalConfig{K: d.K, RankUsers: d.RankUsers, Seed: tc.Seed, Implicit: implicit}}
	switch spec.Algorithm {
	case AlgoMF:
		if err := prepareMF(p, spec, data, trainR, &run, prep, t); err != nil {
			return nil, err
		}
	case AlgoKNN, AlgoSVD:
		if spec.Algorithm == AlgoKNN {
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
				if err != nil {
					return nil, err
				}
				t.rec = k
				return k.Tensors(), nil
			}
			sv, err := recsys.FitSVD(m, data.Scale, *run.SVD)
			if err != nil {
				return nil, err
			}
			t.rec = sv
			return sv.Tensors(), nil
		}
		prep.Test = func(ctx context.Context, _ *checkpoint.Checkpoint, fitTime time.Duration) (*train.TestResult, error) {
			return t.run(spec.Algorithm, fitTime)
		}
	case AlgoIALS, AlgoBPR:
		prepareImplicit(p, spec, m, &run, prep, t)
	}
	prep.Info.Config = run
	return prep, nil
}

// tester tests a fitted recommender on the test split beside the
// baselines, and warns when it loses to popularity.
type tester struct {
	w     io.Writer
	m     *recsys.Matrix
	test  []recsys.Rating
	scale recsys.Scale
	ec    recsys.EvalConfig
	rec   recsys.Recommender // set by the fit
	// warnings found before the test (MF's validation).
	warnings []string
}

// run evaluates t.rec and the baselines: popularity, and for models of
// interactions item-kNN. A model of ratings is compared with popularity
// on RMSE, one of interactions on NDCG; MF was compared on validation
// already (t.warnings), the others have no validation split and are
// compared on the test split.
func (t *tester) run(algo string, fitTime time.Duration) (*train.TestResult, error) {
	fmt.Fprintf(t.w, "fitted %s in %s\n", algo, fitTime.Round(time.Millisecond))
	start := time.Now()
	rep, err := recsys.Evaluate(t.rec, t.m, t.test, t.ec)
	if err != nil {
		return nil, err
	}
	evalTime := time.Since(start)
	base, err := recsys.Evaluate(recsys.FitPopularity(t.m, t.scale), t.m, t.test, t.ec)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(t.w, "evaluated in %s\n", evalTime.Round(time.Millisecond))
	fmt.Fprintf(t.w, "test (n=%d): %s\n", rep.N, rep)
	fmt.Fprintf(t.w, "popularity baseline: %s\n", base)
	res := &train.TestResult{N: rep.N, Metrics: rep.Named(), Warnings: t.warnings}
	if !t.ec.Implicit {
		res.Baseline = &train.Baseline{Name: "popularity", Metric: metrics.Named{Name: "rmse", Value: base.RMSE}}
	}
	if t.ec.Implicit {
		knnStart := time.Now()
		knn := recsys.FitItemCosine(t.m, 0)
		kr, err := recsys.Evaluate(knn, t.m, t.test, t.ec)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(t.w, "item-kNN baseline (cosine, %d neighbours; %s): %s\n", knn.K, time.Since(knnStart).Round(time.Millisecond), kr)
		if rep.NDCG < base.NDCG {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s ranks worse than the popularity baseline on the test split: ndcg@%d %.4f against %.4f; the model is saved all the same",
				algo, rep.K, rep.NDCG, base.NDCG))
		}
		return res, nil
	}
	if algo != AlgoMF && rep.RMSE > base.RMSE {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s predicts worse than the popularity baseline on the test split: rmse %.4f against %.4f; the model is saved all the same",
			algo, rep.RMSE, base.RMSE))
	}
	return res, nil
}

// prepareMF sets up matrix factorization: a tenth of the training ratings
// validates (picks the best epoch or alternation, and compares the model
// with popularity); the test split stays unseen until the end.
func prepareMF(p *train.Plan, spec *Config, data *recsys.Dataset, trainR []recsys.Rating, run *Run, prep *train.Prepared, t *tester) error {
	tc, w := p.Training, p.Progress
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
	if err := cfg.Validate(); err != nil {
		return err
	}
	run.MF = &cfg
	solver, why := spec.Solver, ""
	if solver == "" {
		solver = SolverALS
		switch {
		case tc.DP != nil:
			solver, why = SolverSGD, " (DP-SGD)"
		case p.Given("lr") || p.Given("batch"):
			solver, why = SolverSGD, fmt.Sprintf(" (%s or %s given)", train.Field("lr"), train.Field("batch"))
		}
	}
	run.Solver = solver
	fitR, valR, err := recsys.RandomSplit(trainR, 0.1, tc.Seed+1)
	if err != nil {
		return err
	}
	mFit, err := recsys.NewMatrix(fitR, data.NumUsers(), data.NumItems())
	if err != nil {
		return err
	}
	baseVal := valRMSE(recsys.FitBaseline(mFit, data.Scale), valR)
	// warn compares the model's validation RMSE with popularity's.
	warn := func(rmse float64) {
		fmt.Fprintf(w, "validation (%d ratings): mf rmse %.4f, popularity baseline rmse %.4f\n", len(valR), rmse, baseVal)
		if !(rmse < baseVal) {
			t.warnings = append(t.warnings, fmt.Sprintf("mf predicts worse than the popularity baseline on validation: rmse %.4f against %.4f; the model is saved all the same — try the defaults, or a smaller %s, more %s or %s",
				rmse, baseVal, train.Field("lr"), train.Field("reg"), train.Field("epochs")))
		}
	}
	prep.Config = &Config{Algorithm: AlgoMF, MF: &cfg, Solver: solver}
	test := func(weights []safetensors.Tensor) error {
		val, err := mf.NewRecommender(weights, cfg, mFit)
		if err != nil {
			return err
		}
		warn(valRMSE(val, valR))
		t.rec, err = mf.NewRecommender(weights, cfg, t.m)
		return err
	}
	if solver == SolverSGD {
		prep.Train, prep.Val = mf.Dataset(fitR), mf.Dataset(valR)
		prep.Summary = func(params int) string {
			return fmt.Sprintf("mf: sgd solver%s, %d factors, %d parameters; %d epochs, batch %d, %s lr %g (validation: %d of the training ratings)",
				why, cfg.Factors, params, tc.Epochs, tc.Batch, tc.Optimizer.Name, tc.LR, len(valR))
		}
		prep.Test = func(ctx context.Context, best *checkpoint.Checkpoint, fitTime time.Duration) (*train.TestResult, error) {
			if err := test(best.Weights); err != nil {
				return nil, err
			}
			return t.run(AlgoMF, fitTime)
		}
		return nil
	}
	if tc.DP != nil {
		return train.Fieldf("%s trains matrix factorization by SGD: drop %s %s", train.Field("dp"), train.Field("solver"), solver)
	}
	als := recsys.ALSConfig{Factors: cfg.Factors, Reg: cfg.Reg, InitStd: cfg.InitStd, Seed: tc.Seed, Iterations: DefaultALSIterations}
	if spec.IALS != nil {
		als.CGSteps = spec.IALS.CGSteps
	}
	if p.Given("epochs") {
		als.Iterations = tc.Epochs
	}
	als = als.WithDefaults()
	if err := als.Validate(); err != nil {
		return train.Invalidf("%v", err)
	}
	run.ALS = &als
	fmt.Fprintf(w, "mf: als solver, %d factors, reg %g, %d alternations of %d conjugate gradient steps (validation: %d of the training ratings)\n",
		als.Factors, als.Reg, als.Iterations, als.CGSteps, len(valR))
	prep.Fit = func(ctx context.Context) ([]safetensors.Tensor, error) {
		var best *recsys.BiasedFactors
		bestRMSE, bestIter := math.Inf(1), 0
		start := time.Now()
		_, err := recsys.FitBiasedALS(ctx, mFit, cfg.GlobalMean, als, func(it int, f *recsys.BiasedFactors) error {
			val, err := mf.NewRecommender(mf.Weights(f), cfg, mFit)
			if err != nil {
				return err
			}
			rmse := valRMSE(val, valR)
			fmt.Fprintf(w, "alternation %d/%d  val/rmse %.4f  (%s)\n", it, als.Iterations, rmse, time.Since(start).Round(time.Millisecond))
			if rmse < bestRMSE || best == nil {
				best, bestRMSE, bestIter = f.Clone(), rmse, it
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(w, "best alternation %d by val/rmse\n", bestIter)
		weights := mf.Weights(best)
		return weights, test(weights)
	}
	prep.Test = func(ctx context.Context, _ *checkpoint.Checkpoint, fitTime time.Duration) (*train.TestResult, error) {
		return t.run(AlgoMF, fitTime)
	}
	return nil
}

// BPR's early stopping: every BPREvalEvery epochs (BPRLargeEvalEvery on
// more than BPRRefitMax training interactions), NDCG on a tenth of the
// training interactions (for at most BPRValUsers users) picks the best
// epoch; BPRPatience evaluations without improvement stop the fit.
const (
	BPREvalEvery = 5
	// BPRLargeEvalEvery: above BPRRefitMax an epoch costs minutes and no
	// refit follows, so the patience is counted in fewer epochs (4
	// evaluations 5 epochs apart ran 20 epochs past the best); an
	// evaluation ranks the catalogue for BPRValUsers users, a small part
	// of an epoch there.
	BPRLargeEvalEvery = 2
	BPRValUsers       = 2000
	BPRPatience       = 4
	// BPRRefitMax: on at most this many training interactions, BPR is
	// fitted again on all of them for the best epoch count (the tenth
	// that validated is too much to lose where items have few
	// interactions: on the 100k synthetic ratings ≥ 4 the refit lifted
	// NDCG@10 from 0.1721 to 0.1830, above popularity's 0.1736 —
	// docs/scale.md); above it, the refit would double a long fit, and at
	// 25M a refit to the epoch count validation chose ranked below the
	// model it would replace (0.1492 against 0.1504 NDCG@10, without
	// BPR's moving average; docs/scale.md).
	BPRRefitMax = 2_000_000
)

// fitBPR fits BPR on nine tenths of the training interactions, validated
// on the rest as BPR's early stopping says, and returns the best epoch's
// model serving the whole training matrix — or, on at most BPRRefitMax
// interactions, a model fitted on all of them for the best epoch count. BPR needs more epochs on
// fewer interactions (each row sees fewer updates an epoch), so no fixed
// count fits every data size.
func fitBPR(ctx context.Context, w io.Writer, m *recsys.Matrix, cfg recsys.BPRConfig, ec recsys.EvalConfig) (*recsys.Implicit, error) {
	fitR, valR, err := recsys.RandomSplit(m.Ratings(), 0.1, cfg.Seed+1)
	if err != nil {
		return nil, err
	}
	mFit, err := recsys.NewMatrix(fitR, m.NumUsers, m.NumItems)
	if err != nil {
		return nil, err
	}
	ec.RankUsers = min(max(ec.RankUsers, 0), BPRValUsers)
	if ec.RankUsers == 0 {
		ec.RankUsers = BPRValUsers
	}
	every := BPREvalEvery
	if m.Len() > BPRRefitMax {
		every = BPRLargeEvalEvery
	}
	averaged := ""
	if cfg.Average > 0 {
		averaged = fmt.Sprintf(", the moving average of the epochs (%g on the past)", cfg.Average)
	}
	fmt.Fprintf(w, "bpr: %d factors, lr %g, reg %g, at most %d epochs, %s negatives, the highest-scored of %d draws%s (validation: %d of the training interactions, ndcg@%d every %d epochs)\n",
		cfg.Factors, cfg.LR, cfg.Reg, cfg.Epochs, cfg.Negatives, cfg.Candidates, averaged, len(valR), ec.K, every)
	var best *recsys.Implicit
	bestNDCG, bestEpoch, since := -1.0, 0, 0
	var evalErr error
	start := time.Now()
	_, err = recsys.FitBPR(ctx, mFit, cfg, func(e recsys.BPREpoch, model *recsys.Implicit) bool {
		if e.Epoch%every != 0 && e.Epoch != cfg.Epochs {
			return false
		}
		rep, err := recsys.Evaluate(model, mFit, valR, ec)
		if err != nil {
			evalErr = err
			return true
		}
		fmt.Fprintf(w, "epoch %d/%d  train/auc %.4f  val/ndcg@%d %.4f  (%s)\n", e.Epoch, cfg.Epochs, e.AUC, ec.K, rep.NDCG, time.Since(start).Round(time.Millisecond))
		if rep.NDCG > bestNDCG {
			best, bestNDCG, bestEpoch, since = model.Clone(), rep.NDCG, e.Epoch, 0
			return false
		}
		since++
		return since >= BPRPatience
	})
	if err == nil {
		err = evalErr
	}
	if err != nil {
		return nil, err
	}
	if best == nil {
		return nil, fmt.Errorf("bpr: the validation split gave no NDCG to pick an epoch by")
	}
	fmt.Fprintf(w, "best epoch %d by val/ndcg@%d\n", bestEpoch, ec.K)
	if m.Len() <= BPRRefitMax {
		full := cfg
		full.Epochs = bestEpoch
		fmt.Fprintf(w, "refit on all %d training interactions for %d epochs\n", m.Len(), bestEpoch)
		return recsys.FitBPR(ctx, m, full, nil)
	}
	return best.WithTrain(m)
}

// DefaultALSIterations is MF's alternations under the ALS solver when
// epochs are not given (the SGD solver's default epochs do not carry over).
const DefaultALSIterations = 10

// valRMSE is the RMSE of rec's predictions of the ratings.
func valRMSE(rec interface{ Predict(u, i int) float64 }, rs []recsys.Rating) float64 {
	var s float64
	for _, r := range rs {
		e := rec.Predict(int(r.User), int(r.Item)) - float64(r.Value)
		s += e * e
	}
	return math.Sqrt(s / float64(max(len(rs), 1)))
}

// prepareImplicit sets up iALS or BPR on the training interactions.
func prepareImplicit(p *train.Plan, spec *Config, m *recsys.Matrix, run *Run, prep *train.Prepared, t *tester) {
	tc, w := p.Training, p.Progress
	if spec.Algorithm == AlgoIALS {
		cfg := recsys.IALSConfig{}
		if spec.IALS != nil {
			cfg = *spec.IALS
		}
		cfg.Seed = tc.Seed
		if p.Given("epochs") {
			cfg.Iterations = tc.Epochs
		}
		cfg = cfg.ForData(m)
		run.IALS = &cfg
		prep.Config = &Config{Algorithm: AlgoIALS, IALS: &cfg}
		prep.Fit = func(ctx context.Context) ([]safetensors.Tensor, error) {
			if err := cfg.Validate(); err != nil {
				return nil, train.Invalidf("%v", err)
			}
			fmt.Fprintf(w, "ials: %d factors, reg %g, alpha %g, %d alternations of %d conjugate gradient steps\n", cfg.Factors, cfg.Reg, cfg.Alpha, cfg.Iterations, cfg.CGSteps)
			start := time.Now()
			rec, err := recsys.FitIALS(ctx, m, cfg, func(it int) {
				fmt.Fprintf(w, "alternation %d/%d  (%s)\n", it, cfg.Iterations, time.Since(start).Round(time.Millisecond))
			})
			if err != nil {
				return nil, err
			}
			t.rec = rec
			return rec.Tensors(), nil
		}
	} else {
		cfg := recsys.BPRConfig{}
		if spec.BPR != nil {
			cfg = *spec.BPR
		}
		cfg.Seed = tc.Seed
		if p.Given("epochs") {
			cfg.Epochs = tc.Epochs
		}
		if p.Given("lr") {
			cfg.LR = tc.LR
		}
		cfg = cfg.ForData(m)
		run.BPR = &cfg
		prep.Config = &Config{Algorithm: AlgoBPR, BPR: &cfg}
		prep.Fit = func(ctx context.Context) ([]safetensors.Tensor, error) {
			if err := cfg.Validate(); err != nil {
				return nil, train.Invalidf("%v", err)
			}
			rec, err := fitBPR(ctx, w, m, cfg, t.ec)
			if err != nil {
				return nil, err
			}
			t.rec = rec
			return rec.Tensors(), nil
		}
	}
	prep.Test = func(ctx context.Context, _ *checkpoint.Checkpoint, fitTime time.Duration) (*train.TestResult, error) {
		return t.run(spec.Algorithm, fitTime)
	}
}
