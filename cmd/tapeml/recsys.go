package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"time"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/predictio"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/models/mf"
	"github.com/tapeml/tapeml/recsys"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/train"
)

func init() { familyTrain[kinds.Recommender] = trainRecsys }

func trainRecsys(e env, kind string, args []string) error {
	fs := newFlags(e, "train", "tapeml train recsys [--algo mf|knn|svd] [--data RATINGS] [--items FILE] [flags]")
	algo := fs.String("algo", "mf", "mf (matrix factorization), knn (neighbourhood CF) or svd (truncated SVD)")
	src := kinds.RatingsSource{Path: kinds.BuiltinRatings, TestFraction: 0.2}
	fs.StringVar(&src.Path, "data", kinds.BuiltinRatings, "ratings: ratings.csv, u.data or ratings.dat; default: the built-in synthetic set")
	fs.StringVar(&src.Items, "items", "", "item metadata for titles: movies.csv, u.item or movies.dat")
	fs.BoolVar(&src.SkipMalformed, "skip-malformed", false, "skip malformed rows (and report how many) instead of failing")
	fs.Float64Var(&src.TestFraction, "test-fraction", 0.2, "share of ratings held out for testing (seeded random split)")
	fs.IntVar(&src.LeaveLast, "leave-last", 0, "instead of a random split, test on each user's last K ratings by timestamp")
	tc := mf.DefaultTraining()
	fs.Uint64Var(&tc.Seed, "seed", 1, "seed for the split, initialization and shuffling")
	fs.IntVar(&tc.Epochs, "epochs", tc.Epochs, "mf: passes over the training ratings")
	fs.IntVar(&tc.Batch, "batch", tc.Batch, "mf: ratings per step")
	fs.Float64Var(&tc.LR, "lr", tc.LR, "mf: learning rate")
	factors := fs.Int("factors", 0, "mf and svd: latent factors (default: mf 64, svd 20)")
	reg := fs.Float64("reg", 0, "mf: L2 penalty on the batch's rows (default 0.1)")
	knn := recsys.KNNConfig{}
	fs.StringVar((*string)(&knn.Based), "based", "user", "knn: user or item neighbourhoods")
	fs.StringVar((*string)(&knn.Similarity), "similarity", "pearson", "knn: pearson or cosine")
	fs.IntVar(&knn.K, "k", 0, "knn: neighbours per prediction (default 40)")
	rankUsers := fs.Int("rank-users", recsys.DefaultRankUsers, "rank at most this many test users for the ranking metrics (a seeded sample; 0: all)")
	out := fs.String("out", "", "run folder for checkpoints (default runs/recsys-ALGO-TIME)")
	force := fs.Bool("force", false, "train into an --out that holds a run, deleting its checkpoints")
	threads := fs.Int("threads", 0, "CPU threads (default: all)")
	dpf := addDPFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	dpc, err := mfDP(dpf, fs, *algo)
	if err != nil {
		return err
	}
	tc.DP = dpc
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *threads > 0 {
		runtime.GOMAXPROCS(*threads)
	}
	if src.Path == "" {
		return fmt.Errorf("--data is empty: give a ratings file")
	}
	if !(src.TestFraction > 0 && src.TestFraction < 1) {
		return fmt.Errorf("--test-fraction must be between 0 and 1, got %v", src.TestFraction)
	}
	src.Seed = tc.Seed
	if *out == "" {
		*out = filepath.Join("runs", "recsys-"+*algo+"-"+time.Now().Format("20060102-150405"))
	}
	release, err := startRun(*out, false, *force)
	if err != nil {
		return err
	}
	defer release()
	readStart := time.Now()
	d, report, err := src.Load()
	if err != nil {
		return err
	}
	cat, err := src.Catalog(d)
	if err != nil {
		return err
	}
	if src.LeaveLast < 0 {
		return fmt.Errorf("--leave-last must not be negative, got %d", src.LeaveLast)
	}
	trainR, testR, err := src.Split(d)
	if err != nil {
		return err
	}
	m, err := recsys.NewMatrix(trainR, d.NumUsers(), d.NumItems())
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "ratings %s: %s; %d users, %d items; %d train, %d test (read and split in %s)\n",
		src.Path, report, d.NumUsers(), d.NumItems(), len(trainR), len(testR), time.Since(readStart).Round(time.Millisecond))
	run := kinds.RecsysRun{Algo: *algo, Data: src, Scale: d.Scale}
	extra, err := kinds.RecsysFiles(trainR, d, cat)
	if err != nil {
		return err
	}
	ids := kinds.RecsysIDs{Users: d.Users, Items: d.Items}
	start := time.Now()
	var rec recsys.Recommender
	var dir string
	switch *algo {
	case "mf":
		cfg := mf.FitConfig(d, trainR)
		if tc.DP != nil {
			// The training mean would be an un-noised statistic of the data.
			cfg.GlobalMean = (d.Scale.Min + d.Scale.Max) / 2
		}
		if *factors > 0 {
			cfg.Factors = *factors
		}
		if *reg > 0 {
			cfg.Reg = *reg
		}
		run.MF = &cfg
		if rec, dir, err = trainMF(e, run, ids, extra, trainR, m, tc, *out); err != nil {
			return err
		}
	case "knn", "svd":
		var weights []safetensors.Tensor
		if *algo == "knn" {
			cfg := knn.WithDefaults()
			k, err := recsys.FitKNN(m, d.Scale, cfg)
			if err != nil {
				return err
			}
			run.KNN, rec, weights = &cfg, k, k.Tensors()
		} else {
			cfg := recsys.SVDConfig{Factors: *factors}.WithDefaults()
			s, err := recsys.FitSVD(m, d.Scale, cfg)
			if err != nil {
				return err
			}
			run.SVD, rec, weights = &cfg, s, s.Tensors()
		}
		c := &checkpoint.Checkpoint{Weights: weights, Extra: extra}
		c.Meta.ModelKind, c.Meta.Epoch, c.Meta.WeightsOnly = kinds.Recsys, 1, true
		if c.Meta.ModelConfig, err = json.Marshal(run); err != nil {
			return err
		}
		if c.Meta.Preprocessing, err = json.Marshal(ids); err != nil {
			return err
		}
		if _, err := (checkpoint.Dir{Root: *out}).Save(c, 1, true); err != nil {
			return err
		}
		if dir, err = checkpoint.Resolve(*out, checkpoint.PickBest); err != nil {
			return err
		}
	default:
		return fmt.Errorf("--algo %q: want mf, knn or svd", *algo)
	}
	fitTime := time.Since(start)
	fmt.Fprintf(e.stdout, "fitted %s in %s\n", *algo, fitTime.Round(time.Millisecond))
	ec := recsys.EvalConfig{RankUsers: *rankUsers, Seed: tc.Seed}
	start = time.Now()
	rep, err := recsys.Evaluate(rec, m, testR, ec)
	if err != nil {
		return err
	}
	evalTime := time.Since(start)
	base, err := recsys.Evaluate(recsys.FitPopularity(m, d.Scale), m, testR, ec)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "evaluated in %s\n", evalTime.Round(time.Millisecond))
	fmt.Fprintf(e.stdout, "test (n=%d): %s\n", rep.N, rep)
	fmt.Fprintf(e.stdout, "popularity baseline: %s\n", base)
	fmt.Fprintf(e.stdout, "checkpoint: %s\n", dir)
	return nil
}

func trainMF(e env, run kinds.RecsysRun, ids kinds.RecsysIDs, extra map[string][]byte, trainR []recsys.Rating, m *recsys.Matrix, tc train.Config, out string) (recsys.Recommender, string, error) {
	// A tenth of the training ratings picks the best epoch; the test split
	// stays unseen until the end.
	fitR, valR, err := recsys.RandomSplit(trainR, 0.1, tc.Seed+1)
	if err != nil {
		return nil, "", err
	}
	model, err := mf.New(*run.MF)
	if err != nil {
		return nil, "", err
	}
	if err := tc.Validate(); err != nil {
		return nil, "", err
	}
	params := graph.NewParams(tensor.Float32, tc.Seed)
	t, err := train.New(model, params, tc)
	if err != nil {
		return nil, "", err
	}
	t.Progress = e.stdout
	t.Saver = &train.Saver{
		Dir:   checkpoint.Dir{Root: out, Keep: tc.Keep},
		Info:  train.RunInfo{Kind: kinds.Recsys, Config: run, Preprocessing: ids},
		Extra: extra,
	}
	fmt.Fprintf(e.stdout, "mf: %d factors, %d parameters; %d epochs, batch %d, %s lr %g (validation: %d of the training ratings)\n",
		run.MF.Factors, params.Count(), tc.Epochs, tc.Batch, tc.Optimizer.Name, tc.LR, len(valR))
	ctx, stop := trainContext(e)
	defer stop()
	if err := fit(ctx, t, mf.Dataset(fitR), mf.Dataset(valR), out, false); err != nil {
		return nil, "", err
	}
	dir, err := checkpoint.Resolve(out, checkpoint.PickBest)
	if err != nil {
		return nil, "", err
	}
	best, err := checkpoint.Load(dir)
	if err != nil {
		return nil, "", err
	}
	rec, err := mf.NewRecommender(best.Weights, *run.MF, m)
	return rec, dir, err
}

// recommendation is one line of recommend's or similar's output.
type recommendation = predictio.Recommendation

func runRecommend(e env, args []string) error {
	fs := newFlags(e, "recommend", "tapeml recommend --checkpoint DIR --user ID [-n N] [--json]")
	ckpt := fs.String("checkpoint", "", "recommender checkpoint folder, or its run folder")
	user := fs.String("user", "", "raw user id, as in the ratings file")
	n := fs.Int("n", 10, "how many items")
	asJSON := fs.Bool("json", false, "print one JSON object per item")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *user == "" {
		return fmt.Errorf("--user is required")
	}
	if *n < 1 {
		return fmt.Errorf("-n must be at least 1, got %d", *n)
	}
	m, err := openRecommender(*ckpt)
	if err != nil {
		return err
	}
	r := m.Loaded().Recsys
	if u, ok := r.IDs.Users.Index(*user); !ok || r.Train.UserCount(u) == 0 {
		fmt.Fprintf(e.stderr, "tapeml recommend: user %q has no training ratings in %s: recommending popular items\n", *user, *ckpt)
	}
	out, err := predictio.Recommend(context.Background(), m, *user, *n)
	if err != nil {
		return err
	}
	return printRecommendations(e, out, *asJSON)
}

func runSimilar(e env, args []string) error {
	fs := newFlags(e, "similar", "tapeml similar --checkpoint DIR (--user ID | --item ID) [-n N] [--json]")
	ckpt := fs.String("checkpoint", "", "recommender checkpoint folder, or its run folder")
	user := fs.String("user", "", "raw user id: list similar users")
	item := fs.String("item", "", "raw item id: list similar items")
	n := fs.Int("n", 10, "how many")
	asJSON := fs.Bool("json", false, "print one JSON object per line")
	if err := parse(fs, args); err != nil {
		return err
	}
	if (*user == "") == (*item == "") {
		return fmt.Errorf("give exactly one of --user and --item")
	}
	if *n < 1 {
		return fmt.Errorf("-n must be at least 1, got %d", *n)
	}
	m, err := openRecommender(*ckpt)
	if err != nil {
		return err
	}
	l := m.Loaded().Recsys
	var out []recommendation
	if *user != "" {
		u, ok := l.IDs.Users.Index(*user)
		if !ok {
			return fmt.Errorf("unknown user %q: it has no ratings in the training data", *user)
		}
		for _, s := range l.Recommender.SimilarUsers(u, *n) {
			out = append(out, recommendation{ID: l.IDs.Users.Raw(s.Index), Score: s.Score})
		}
	} else {
		i, ok := l.IDs.Items.Index(*item)
		if !ok {
			return fmt.Errorf("unknown item %q: it has no ratings in the training data", *item)
		}
		for _, s := range l.Recommender.SimilarItems(i, *n) {
			id := l.IDs.Items.Raw(s.Index)
			out = append(out, recommendation{ID: id, Score: s.Score, Title: l.Items[id].Title})
		}
	}
	if len(out) == 0 {
		fmt.Fprintf(e.stderr, "tapeml similar: the %s model has no similar entries to give here\n", l.Run.Algo)
	}
	return printRecommendations(e, out, *asJSON)
}

func openRecommender(path string) (*tapeml.Model, error) {
	if path == "" {
		return nil, fmt.Errorf("--checkpoint is required")
	}
	m, err := tapeml.Load(path)
	if err != nil {
		return nil, err
	}
	if m.Loaded().Recsys == nil {
		return nil, fmt.Errorf("%s holds a %s model, not a recommender", path, m.Kind())
	}
	return m, nil
}

func printRecommendations(e env, out []recommendation, asJSON bool) error {
	for _, r := range out {
		if asJSON {
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, string(b))
			continue
		}
		line := fmt.Sprintf("%-10s %8.4f", r.ID, r.Score)
		if r.Predicted != nil {
			line += fmt.Sprintf("  predicted %.2f", *r.Predicted)
		}
		if r.Title != "" {
			line += "  " + r.Title
		}
		fmt.Fprintln(e.stdout, line)
	}
	return nil
}
