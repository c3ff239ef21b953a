package recommender

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/models/mf"
	"github.com/tapeml/tapeml/recsys"
	"github.com/tapeml/tapeml/safetensors"
)

// Family is the recommender family.
var Family kinds.Family = family{}

type family struct{}

func (family) Name() string { return "recommender" }

// Files a recommender checkpoint carries besides its weights.
const (
	TrainRatingsFile = "train_ratings.safetensors" // the training split: rated-item exclusion, baselines
	ItemsFile        = "items.json"                // raw item id → title and genres
)

// Source says where a run's ratings came from and how they were split.
type Source struct {
	Path          string  `json:"path"` // a ratings file, or a built-in name (dataset.BuiltinPrefix)
	Items         string  `json:"items,omitempty"`
	Seed          uint64  `json:"seed"`
	TestFraction  float64 `json:"test_fraction"`
	LeaveLast     int     `json:"leave_last,omitempty"` // > 0: each user's last k ratings by time are the test split instead
	TimeSplit     bool    `json:"time_split,omitempty"` // the latest TestFraction by time is the test split instead
	SkipMalformed bool    `json:"skip_malformed,omitempty"`
	// Threshold, when not 0, turns the ratings read into interactions:
	// those of at least Threshold (recsys.Interactions).
	Threshold float64 `json:"implicit_threshold,omitempty"`
}

// Load reads the ratings (as interactions with a Threshold), and the item
// catalogue of a built-in set.
func (s Source) Load() (*recsys.Dataset, *recsys.Catalog, recsys.ReadReport, error) {
	d, cat, rep, err := s.load()
	if err != nil || s.Threshold == 0 {
		return d, cat, rep, err
	}
	i, err := recsys.Interactions(d, s.Threshold)
	return i, cat, rep, err
}

func (s Source) load() (*recsys.Dataset, *recsys.Catalog, recsys.ReadReport, error) {
	if dataset.IsBuiltin(s.Path) {
		load, err := dataset.Builtin[recsys.BuiltinLoader](s.Path)
		if err != nil {
			return nil, nil, recsys.ReadReport{}, err
		}
		d, cat, err := load()
		if err != nil {
			return nil, nil, recsys.ReadReport{}, err
		}
		return d, cat, recsys.ReadReport{Rows: len(d.Ratings)}, nil
	}
	if s.Path == "" {
		return nil, nil, recsys.ReadReport{}, fmt.Errorf("no data: give a ratings file")
	}
	d, rep, err := recsys.ReadRatings(s.Path, recsys.ReadOptions{SkipMalformed: s.SkipMalformed})
	return d, nil, rep, err
}

// Split is the run's train/test split: seeded random, leave-last-k-out,
// or by time.
func (s Source) Split(d *recsys.Dataset) (trainR, testR []recsys.Rating, err error) {
	switch {
	case s.LeaveLast > 0:
		return recsys.LeaveLastOut(d.Ratings, s.LeaveLast)
	case s.TimeSplit:
		return recsys.TimeSplit(d.Ratings, s.TestFraction)
	}
	return recsys.RandomSplit(d.Ratings, s.TestFraction, s.Seed)
}

// Catalog reads the item titles given with --items, or else returns the
// built-in set's (builtin, from Load), if any.
func (s Source) Catalog(builtin *recsys.Catalog) (*recsys.Catalog, error) {
	if s.Items != "" {
		return recsys.ReadItems(s.Items, "")
	}
	return builtin, nil
}

// Run is a recommender checkpoint's model_config.
type Run struct {
	Algo string             `json:"algo"`
	MF   *mf.Config         `json:"mf,omitempty"`
	KNN  *recsys.KNNConfig  `json:"knn,omitempty"`
	SVD  *recsys.SVDConfig  `json:"svd,omitempty"`
	IALS *recsys.IALSConfig `json:"ials,omitempty"`
	BPR  *recsys.BPRConfig  `json:"bpr,omitempty"`
	// Solver is how MF was fitted (SolverALS with ALS's settings, or
	// SolverSGD); a record, not needed to serve it.
	Solver string            `json:"solver,omitempty"`
	ALS    *recsys.ALSConfig `json:"als,omitempty"`
	Data   Source            `json:"data"`
	Scale  recsys.Scale      `json:"scale"`
	// Implicit: the model was trained on interactions (an interaction
	// log, or ratings with Data.Threshold), which the training ratings
	// file holds as weights.
	Implicit bool `json:"implicit,omitempty"`
	// K is the ranking metrics' list length the run was tested at (0: 10).
	K int `json:"k,omitempty"`
}

// IDs is a recommender checkpoint's preprocessing: raw ids ↔ indices.
type IDs struct {
	Users *recsys.IDMap `json:"users"`
	Items *recsys.IDMap `json:"items"`
}

// Files packs the training ratings and item titles into the extra files
// of a recommender checkpoint.
func Files(trainR []recsys.Rating, d *recsys.Dataset, cat *recsys.Catalog) (map[string][]byte, error) {
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, recsys.RatingsTensors(trainR), nil); err != nil {
		return nil, err
	}
	extra := map[string][]byte{TrainRatingsFile: buf.Bytes()}
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
		extra[ItemsFile] = b
	}
	return extra, nil
}

// Open reads a recommender checkpoint: its run, id maps, training ratings
// and catalogue, and builds the recommender on its weights.
func (family) Open(c *checkpoint.Checkpoint, k *kinds.Kind, cfg kinds.Config) (kinds.Codec, error) {
	meta := c.MetaName()
	r := &Codec{}
	if err := kinds.StrictJSON(c.Meta.ModelConfig, &r.run); err != nil {
		return nil, fmt.Errorf("%s: model_config: %w", meta, err)
	}
	if err := json.Unmarshal(c.Meta.Preprocessing, &r.ids); err != nil || r.ids.Users == nil || r.ids.Items == nil {
		return nil, fmt.Errorf("%s: preprocessing: missing or invalid id maps (%v)", meta, err)
	}
	if r.run.Scale != (recsys.Scale{}) { // zero: the default
		if err := r.run.Scale.Validate(); err != nil {
			return nil, fmt.Errorf("%s: model_config: scale: %w", meta, err)
		}
	}
	users, items := r.ids.Users.Len(), r.ids.Items.Len()
	if m := r.run.MF; m != nil && (m.Users != users || m.Items != items) {
		return nil, fmt.Errorf("%s: the id maps hold %d users and %d items, the model %d and %d", meta, users, items, m.Users, m.Items)
	}
	raw, ok := c.Extra[TrainRatingsFile]
	if !ok {
		if c.Dir == "" {
			return nil, fmt.Errorf("%s: a recommender needs its training ratings (%s), which only its checkpoint folder has: give the checkpoint, or import the weights with it", meta, TrainRatingsFile)
		}
		return nil, fmt.Errorf("%s: no %s", c.Dir, TrainRatingsFile)
	}
	from := filepath.Join(c.Dir, TrainRatingsFile)
	f, err := safetensors.Read(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	rs, err := recsys.RatingsFromTensors(f.Tensors, users, items, r.run.Scale, r.run.Implicit, from)
	if err != nil {
		return nil, err
	}
	if r.train, err = recsys.NewMatrix(rs, users, items); err != nil {
		return nil, err
	}
	if b, ok := c.Extra[ItemsFile]; ok {
		if err := json.Unmarshal(b, &r.items); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(c.Dir, ItemsFile), err)
		}
	}
	weights := filepath.Join(c.Dir, checkpoint.WeightsFile)
	run := r.run
	if implicitAlgo(run.Algo) != run.Implicit {
		return nil, fmt.Errorf("%s: the %s algorithm with implicit %v data", meta, run.Algo, run.Implicit)
	}
	switch {
	case run.Algo == AlgoMF && run.MF != nil:
		// The kind checked the weights' shapes against the network first.
		r.rec, err = mf.NewRecommender(c.Weights, *run.MF, r.train)
	case run.Algo == AlgoKNN && run.KNN != nil:
		r.rec, err = recsys.LoadKNN(r.train, run.Scale, *run.KNN, c.Weights, weights)
	case run.Algo == AlgoSVD && run.SVD != nil:
		r.rec, err = recsys.LoadSVD(r.train, run.Scale, *run.SVD, c.Weights, weights)
	case run.Algo == AlgoIALS && run.IALS != nil:
		r.rec, err = recsys.LoadImplicit(r.train, AlgoIALS, run.IALS.Factors, run.IALS, c.Weights, weights)
	case run.Algo == AlgoBPR && run.BPR != nil:
		r.rec, err = recsys.LoadImplicit(r.train, AlgoBPR, run.BPR.Factors, nil, c.Weights, weights)
	default:
		return nil, fmt.Errorf("%s: unknown algorithm %q or its configuration is missing", meta, r.run.Algo)
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}
