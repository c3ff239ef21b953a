package kinds

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/tapeml/tapeml/models/mf"
	"github.com/tapeml/tapeml/onnx"
	"github.com/tapeml/tapeml/recsys"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/samples"
	"github.com/tapeml/tapeml/train"
)

// Recsys is the kind of tapeml's recommenders; RecsysRun.Algo says which
// one (mf, knn or svd).
const Recsys = "recsys"

// BuiltinRatings names the compiled-in synthetic ratings in checkpoints.
const BuiltinRatings = "builtin:synthetic-ratings"

// Files a recommender checkpoint carries besides its weights.
const (
	TrainRatingsFile = "train_ratings.safetensors" // the training split: rated-item exclusion, baselines
	ItemsFile        = "items.json"                // raw item id → title and genres
)

// RatingsSource says where a run's ratings came from and how they were
// split.
type RatingsSource struct {
	Path          string  `json:"path"` // a ratings file, or BuiltinRatings
	Items         string  `json:"items,omitempty"`
	Seed          uint64  `json:"seed"`
	TestFraction  float64 `json:"test_fraction"`
	LeaveLast     int     `json:"leave_last,omitempty"` // > 0: each user's last k ratings by time are the test split instead
	SkipMalformed bool    `json:"skip_malformed,omitempty"`
}

// RecsysRun is a recommender checkpoint's model_config.
type RecsysRun struct {
	Algo  string            `json:"algo"`
	MF    *mf.Config        `json:"mf,omitempty"`
	KNN   *recsys.KNNConfig `json:"knn,omitempty"`
	SVD   *recsys.SVDConfig `json:"svd,omitempty"`
	Data  RatingsSource     `json:"data"`
	Scale recsys.Scale      `json:"scale"`
}

// RecsysIDs is a recommender checkpoint's preprocessing: raw ids ↔
// indices.
type RecsysIDs struct {
	Users *recsys.IDMap `json:"users"`
	Items *recsys.IDMap `json:"items"`
}

// Load reads the ratings.
func (s RatingsSource) Load() (*recsys.Dataset, recsys.ReadReport, error) {
	if s.Path == BuiltinRatings {
		d, err := samples.Ratings()
		return d, recsys.ReadReport{Rows: len(d.Ratings)}, err
	}
	if _, err := os.Stat(s.Path); err != nil {
		return nil, recsys.ReadReport{}, fmt.Errorf("--data %s: no such file", s.Path)
	}
	return recsys.ReadRatings(s.Path, recsys.ReadOptions{SkipMalformed: s.SkipMalformed})
}

// Split is the run's train/test split: seeded random, or leave-last-k-out.
func (s RatingsSource) Split(d *recsys.Dataset) (trainR, testR []recsys.Rating, err error) {
	if s.LeaveLast > 0 {
		return recsys.LeaveLastOut(d.Ratings, s.LeaveLast)
	}
	return recsys.RandomSplit(d.Ratings, s.TestFraction, s.Seed)
}

// Catalog reads the item titles, if the run has them.
func (s RatingsSource) Catalog(d *recsys.Dataset) (*recsys.Catalog, error) {
	if s.Items != "" {
		return recsys.ReadItems(s.Items, "")
	}
	if s.Path == BuiltinRatings {
		return samples.RatingsCatalog(d), nil
	}
	return nil, nil
}

// RecsysFiles packs the training ratings and item titles into the extra
// files of a recommender checkpoint.
func RecsysFiles(trainR []recsys.Rating, d *recsys.Dataset, cat *recsys.Catalog) (map[string][]byte, error) {
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

func init() {
	Register(&Kind{
		Name:    Recsys,
		Family:  Recommender,
		Summary: "collaborative filtering: matrix factorization (--algo mf), user/item kNN (knn), truncated SVD (svd)",
		Decode: func(raw json.RawMessage) (string, Arch, error) {
			var run struct {
				Algo string          `json:"algo"`
				MF   json.RawMessage `json:"mf"`
			}
			if err := json.Unmarshal(raw, &run); err != nil {
				return "", nil, err
			}
			switch run.Algo {
			case "mf":
				c := &mf.Config{}
				if err := StrictJSON(run.MF, c); err != nil {
					return "", nil, fmt.Errorf("%q: %w", "mf", err)
				}
				*c = c.WithDefaults() // as mf.New fills them
				if err := c.Validate(); err != nil {
					return "", nil, fmt.Errorf("%q: %w", "mf", err)
				}
				return run.Algo, c, nil
			case "knn", "svd":
				return run.Algo, nil, nil
			}
			return "", nil, fmt.Errorf("recommender algo %q, want mf, knn or svd", run.Algo)
		},
		Network: func(a Arch) (train.Model, error) { return mf.New(*a.(*mf.Config)) },
		ONNX: func(a Arch, ws []safetensors.Tensor) (*onnx.Model, error) {
			return onnx.MF(*a.(*mf.Config), ws)
		},
		Defaults: func() (any, train.Config) {
			return map[string]any{"mf": mf.Config{}.WithDefaults(), "knn": recsys.DefaultKNN(), "svd": recsys.SVDConfig{}.WithDefaults()}, mf.DefaultTraining()
		},
	})
}
