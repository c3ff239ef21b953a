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
	SkipMalformed bool    `json:"skip_malformed,omitempty"`
}

// Load reads the ratings, and the item catalogue of a built-in set.
func (s Source) Load() (*recsys.Dataset, *recsys.Catalog, recsys.ReadReport, error) {
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

// Split is the run's train/test split: seeded random, or leave-last-k-out.
func (s Source) Split(d *recsys.Dataset) (trainR, testR []recsys.Rating, err error) {
	if s.LeaveLast > 0 {
		return recsys.LeaveLastOut(d.Ratings, s.LeaveLast)
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
	Algo  string            `json:"algo"`
	MF    *mf.Config        `json:"mf,omitempty"`
	KNN   *recsys.KNNConfig `json:"knn,omitempty"`
	SVD   *recsys.SVDConfig `json:"svd,omitempty"`
	Data  Source            `json:"data"`
	Scale recsys.Scale      `json:"scale"`
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
	rs, err := recsys.RatingsFromTensors(f.Tensors, users, items, r.run.Scale, from)
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
	switch {
	case r.run.Algo == "mf" && r.run.MF != nil:
		// The kind checked the weights' shapes against the network first.
		r.rec, err = mf.NewRecommender(c.Weights, *r.run.MF, r.train)
	case r.run.Algo == "knn" && r.run.KNN != nil:
		r.rec, err = recsys.LoadKNN(r.train, r.run.Scale, *r.run.KNN, c.Weights, weights)
	case r.run.Algo == "svd" && r.run.SVD != nil:
		r.rec, err = recsys.LoadSVD(r.train, r.run.Scale, *r.run.SVD, c.Weights, weights)
	default:
		return nil, fmt.Errorf("%s: unknown algorithm %q or its configuration is missing", meta, r.run.Algo)
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}
