package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/graph"
	mf "github.com/tapeml/tapeml/models/recsys"
	"github.com/tapeml/tapeml/recsys"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/samples"
	"github.com/tapeml/tapeml/train"
)

// recsysKind is the command-line name of the recommenders; --algo picks
// matrix factorization, neighbourhood CF or truncated SVD.
const recsysKind = "recsys"

// builtinRatings names the compiled-in synthetic ratings in checkpoints.
const builtinRatings = "builtin:synthetic-ratings"

// Files a recommender checkpoint carries besides its weights.
const (
	trainRatingsFile = "train_ratings.safetensors" // the training split: rated-item exclusion, baselines
	itemsFile        = "items.json"                // raw item id → title and genres
)

// ratingsSource says where a run's ratings came from and how they were split.
type ratingsSource struct {
	Path          string  `json:"path"` // a ratings file, or builtinRatings
	Items         string  `json:"items,omitempty"`
	Seed          uint64  `json:"seed"`
	TestFraction  float64 `json:"test_fraction"`
	LeaveLast     int     `json:"leave_last,omitempty"` // > 0: each user's last k ratings by time are the test split instead
	SkipMalformed bool    `json:"skip_malformed,omitempty"`
}

// recsysRun is a recommender checkpoint's model_config.
type recsysRun struct {
	Algo  string            `json:"algo"`
	MF    *mf.Config        `json:"mf,omitempty"`
	KNN   *recsys.KNNConfig `json:"knn,omitempty"`
	SVD   *recsys.SVDConfig `json:"svd,omitempty"`
	Data  ratingsSource     `json:"data"`
	Scale recsys.Scale      `json:"scale"`
}

// recsysIDs is a recommender checkpoint's preprocessing: raw ids ↔ indices.
type recsysIDs struct {
	Users *recsys.IDMap `json:"users"`
	Items *recsys.IDMap `json:"items"`
}

func init() {
	registerFamily(family{
		kinds: []string{recsysKind},
		summary: func(string) string {
			return "collaborative filtering: matrix factorization (--algo mf), user/item kNN (knn), truncated SVD (svd)"
		},
		defaults: func(string) (any, any) {
			return map[string]any{"mf": mf.Config{}.WithDefaults(), "knn": recsys.DefaultKNN(), "svd": recsys.SVDConfig{}.WithDefaults()}, mf.DefaultTraining()
		},
		train: trainRecsys,
		eval:  evalRecsys,
		predict: func(env, *checkpoint.Checkpoint, predictOptions) error {
			return fmt.Errorf("recommenders predict with 'tapeml recommend' and 'tapeml similar'")
		},
	})
}

func (s ratingsSource) load() (*recsys.Dataset, recsys.ReadReport, error) {
	if s.Path == builtinRatings {
		d, err := samples.Ratings()
		return d, recsys.ReadReport{Rows: len(d.Ratings)}, err
	}
	if _, err := os.Stat(s.Path); err != nil {
		return nil, recsys.ReadReport{}, fmt.Errorf("--data %s: no such file", s.Path)
	}
	return recsys.ReadRatings(s.Path, recsys.ReadOptions{SkipMalformed: s.SkipMalformed})
}

// split is the run's train/test split: seeded random, or leave-last-k-out.
func (s ratingsSource) split(d *recsys.Dataset) (trainR, testR []recsys.Rating, err error) {
	if s.LeaveLast > 0 {
		return recsys.LeaveLastOut(d.Ratings, s.LeaveLast)
	}
	return recsys.RandomSplit(d.Ratings, s.TestFraction, s.Seed)
}

func (s ratingsSource) catalog(d *recsys.Dataset) (*recsys.Catalog, error) {
	if s.Items != "" {
		return recsys.ReadItems(s.Items, "")
	}
	if s.Path == builtinRatings {
		return samples.RatingsCatalog(d), nil
	}
	return nil, nil
}

func trainRecsys(e env, kind string, args []string) error {
	fs := newFlags(e, "train", "tapeml train recsys [--algo mf|knn|svd] [--data RATINGS] [--items FILE] [flags]")
	algo := fs.String("algo", "mf", "mf (matrix factorization), knn (neighbourhood CF) or svd (truncated SVD)")
	src := ratingsSource{Path: builtinRatings, TestFraction: 0.2}
	fs.StringVar(&src.Path, "data", builtinRatings, "ratings: ratings.csv, u.data or ratings.dat; default: the built-in synthetic set")
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
	out := fs.String("out", "", "run folder for checkpoints (default runs/recsys-ALGO-TIME)")
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
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
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
	d, report, err := src.load()
	if err != nil {
		return err
	}
	cat, err := src.catalog(d)
	if err != nil {
		return err
	}
	if src.LeaveLast < 0 {
		return fmt.Errorf("--leave-last must not be negative, got %d", src.LeaveLast)
	}
	trainR, testR, err := src.split(d)
	if err != nil {
		return err
	}
	m, err := recsys.NewMatrix(trainR, d.NumUsers(), d.NumItems())
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "ratings %s: %s; %d users, %d items; %d train, %d test\n", src.Path, report, d.NumUsers(), d.NumItems(), len(trainR), len(testR))
	run := recsysRun{Algo: *algo, Data: src, Scale: d.Scale}
	extra, err := recsysExtra(trainR, d, cat)
	if err != nil {
		return err
	}
	ids := recsysIDs{Users: d.Users, Items: d.Items}
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
		c.Meta.ModelKind, c.Meta.Epoch, c.Meta.WeightsOnly = recsysKind, 1, true
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
	rep, err := recsys.Evaluate(rec, m, testR, recsys.EvalConfig{})
	if err != nil {
		return err
	}
	base, err := recsys.Evaluate(recsys.FitPopularity(m, d.Scale), m, testR, recsys.EvalConfig{})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "fitted %s in %s\n", *algo, fitTime.Round(time.Millisecond))
	fmt.Fprintf(e.stdout, "test (n=%d): %s\n", rep.N, rep)
	fmt.Fprintf(e.stdout, "popularity baseline: %s\n", base)
	fmt.Fprintf(e.stdout, "checkpoint: %s\n", dir)
	return nil
}

// recsysExtra packs the training ratings and item titles into checkpoint files.
func recsysExtra(trainR []recsys.Rating, d *recsys.Dataset, cat *recsys.Catalog) (map[string][]byte, error) {
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, recsys.RatingsTensors(trainR), nil); err != nil {
		return nil, err
	}
	extra := map[string][]byte{trainRatingsFile: buf.Bytes()}
	if cat != nil {
		items := map[string]recsys.Item{}
		for i := 0; i < d.NumItems(); i++ {
			if it, ok := cat.Items[d.Items.Raw(i)]; ok {
				items[it.ID] = it
			}
		}
		b, err := json.Marshal(items)
		if err != nil {
			return nil, err
		}
		extra[itemsFile] = b
	}
	return extra, nil
}

func trainMF(e env, run recsysRun, ids recsysIDs, extra map[string][]byte, trainR []recsys.Rating, m *recsys.Matrix, tc train.Config, out string) (recsys.Recommender, string, error) {
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
		Info:  train.RunInfo{Kind: recsysKind, Config: run, Preprocessing: ids},
		Extra: extra,
	}
	fmt.Fprintf(e.stdout, "mf: %d factors, %d parameters; %d epochs, batch %d, %s lr %g (validation: %d of the training ratings)\n",
		run.MF.Factors, params.Count(), tc.Epochs, tc.Batch, tc.Optimizer.Name, tc.LR, len(valR))
	if err := t.Fit(mf.Dataset(fitR), mf.Dataset(valR)); err != nil {
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

// loadedRecommender is a recommender checkpoint ready to serve.
type loadedRecommender struct {
	run   recsysRun
	ids   recsysIDs
	train *recsys.Matrix
	rec   recsys.Recommender
	items map[string]recsys.Item
}

func loadRecommender(c *checkpoint.Checkpoint) (*loadedRecommender, error) {
	l := &loadedRecommender{}
	meta := filepath.Join(c.Dir, checkpoint.MetaFile)
	if err := strictJSON(c.Meta.ModelConfig, &l.run); err != nil {
		return nil, fmt.Errorf("%s: model_config: %w", meta, err)
	}
	if err := json.Unmarshal(c.Meta.Preprocessing, &l.ids); err != nil || l.ids.Users == nil || l.ids.Items == nil {
		return nil, fmt.Errorf("%s: preprocessing: missing or invalid id maps (%v)", meta, err)
	}
	raw, ok := c.Extra[trainRatingsFile]
	if !ok {
		return nil, fmt.Errorf("%s: no %s", c.Dir, trainRatingsFile)
	}
	from := filepath.Join(c.Dir, trainRatingsFile)
	f, err := safetensors.Read(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	users, items := l.ids.Users.Len(), l.ids.Items.Len()
	rs, err := recsys.RatingsFromTensors(f.Tensors, users, items, l.run.Scale, from)
	if err != nil {
		return nil, err
	}
	if l.train, err = recsys.NewMatrix(rs, users, items); err != nil {
		return nil, err
	}
	if b, ok := c.Extra[itemsFile]; ok {
		if err := json.Unmarshal(b, &l.items); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(c.Dir, itemsFile), err)
		}
	}
	weights := filepath.Join(c.Dir, checkpoint.WeightsFile)
	switch {
	case l.run.Algo == "mf" && l.run.MF != nil:
		l.rec, err = mf.NewRecommender(c.Weights, *l.run.MF, l.train)
	case l.run.Algo == "knn" && l.run.KNN != nil:
		l.rec, err = recsys.LoadKNN(l.train, l.run.Scale, *l.run.KNN, c.Weights, weights)
	case l.run.Algo == "svd" && l.run.SVD != nil:
		l.rec, err = recsys.LoadSVD(l.train, l.run.Scale, *l.run.SVD, c.Weights, weights)
	default:
		return nil, fmt.Errorf("%s: unknown algorithm %q or its configuration is missing", meta, l.run.Algo)
	}
	if err != nil {
		return nil, err
	}
	return l, nil
}

func evalRecsys(e env, c *checkpoint.Checkpoint, o evalOptions) error {
	l, err := loadRecommender(c)
	if err != nil {
		return err
	}
	src := l.run.Data
	if o.data != "" {
		src.Path = o.data
	}
	d, _, err := src.load()
	if err != nil {
		return err
	}
	_, testR, err := src.split(d)
	if err != nil {
		return err
	}
	testR = l.remap(d, testR)
	rep, err := recsys.Evaluate(l.rec, l.train, testR, recsys.EvalConfig{})
	if err != nil {
		return err
	}
	if o.asJSON {
		obj := map[string]any{"n": rep.N, "checkpoint": c.Dir, "data": src.Path, "model": recsysKind, "algo": l.run.Algo}
		if err := addPrivacy(obj, c); err != nil {
			return err
		}
		for _, m := range rep.Named() {
			obj[m.Name] = jsonNumber(m.Value)
		}
		b, err := json.Marshal(obj)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, string(b))
		return nil
	}
	fmt.Fprintf(e.stdout, "%s (%s) on %s test split (n=%d): %s\n", c.Dir, l.run.Algo, src.Path, rep.N, rep)
	return nil
}

// remap re-expresses ratings read from another file in the checkpoint's
// indices; users and items it has never seen become −1 (unknown), which the
// recommenders answer with their fallbacks.
func (l *loadedRecommender) remap(d *recsys.Dataset, rs []recsys.Rating) []recsys.Rating {
	out := make([]recsys.Rating, len(rs))
	for k, r := range rs {
		u, ok := l.ids.Users.Index(d.Users.Raw(int(r.User)))
		if !ok {
			u = -1
		}
		i, ok := l.ids.Items.Index(d.Items.Raw(int(r.Item)))
		if !ok {
			i = -1
		}
		out[k] = recsys.Rating{User: int32(u), Item: int32(i), Value: r.Value, Time: r.Time}
	}
	return out
}

// recommendation is one line of recommend's or similar's output.
type recommendation struct {
	ID        string   `json:"id"`
	Score     float64  `json:"score"`
	Predicted *float64 `json:"predicted,omitempty"`
	Title     string   `json:"title,omitempty"`
}

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
	l, err := openRecommender(*ckpt)
	if err != nil {
		return err
	}
	u, ok := l.ids.Users.Index(*user)
	if !ok || l.train.UserCount(u) == 0 {
		fmt.Fprintf(e.stderr, "tapeml recommend: user %q has no training ratings in %s: recommending popular items\n", *user, *ckpt)
		u = -1
	}
	var out []recommendation
	for _, s := range l.rec.Recommend(u, *n) {
		p := l.rec.Predict(u, s.Index)
		id := l.ids.Items.Raw(s.Index)
		out = append(out, recommendation{ID: id, Score: s.Score, Predicted: &p, Title: l.items[id].Title})
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
	l, err := openRecommender(*ckpt)
	if err != nil {
		return err
	}
	var out []recommendation
	if *user != "" {
		u, ok := l.ids.Users.Index(*user)
		if !ok {
			return fmt.Errorf("unknown user %q: it has no ratings in the training data", *user)
		}
		for _, s := range l.rec.SimilarUsers(u, *n) {
			out = append(out, recommendation{ID: l.ids.Users.Raw(s.Index), Score: s.Score})
		}
	} else {
		i, ok := l.ids.Items.Index(*item)
		if !ok {
			return fmt.Errorf("unknown item %q: it has no ratings in the training data", *item)
		}
		for _, s := range l.rec.SimilarItems(i, *n) {
			id := l.ids.Items.Raw(s.Index)
			out = append(out, recommendation{ID: id, Score: s.Score, Title: l.items[id].Title})
		}
	}
	if len(out) == 0 {
		fmt.Fprintf(e.stderr, "tapeml similar: the %s model has no similar entries to give here\n", l.run.Algo)
	}
	return printRecommendations(e, out, *asJSON)
}

func openRecommender(path string) (*loadedRecommender, error) {
	c, err := openCheckpoint(path, checkpoint.PickBest)
	if err != nil {
		return nil, err
	}
	if c.Meta.ModelKind != recsysKind {
		return nil, fmt.Errorf("%s holds a %s model, not a recommender", c.Dir, c.Meta.ModelKind)
	}
	return loadRecommender(c)
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
