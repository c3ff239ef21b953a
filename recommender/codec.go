package recommender

import (
	"context"
	"fmt"
	"math"

	"github.com/tapeml/tapeml/api"
	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/models/mf"
	"github.com/tapeml/tapeml/recsys"
)

// Codec is a recommender's family state: its run, id maps, training
// ratings and catalogue, and the recommender built on its weights.
type Codec struct {
	run   Run
	ids   IDs
	train *recsys.Matrix
	rec   recsys.Recommender
	items map[string]recsys.Item // raw item id → title; nil without a catalogue
}

// Run is the model's run format.
func (r *Codec) Run() Run { return r.run }

// IDs are the model's id maps.
func (r *Codec) IDs() IDs { return r.ids }

// Train is the training split's rating matrix.
func (r *Codec) Train() *recsys.Matrix { return r.train }

// Recommender is the algorithm, on the checkpoint's weights.
func (r *Codec) Recommender() recsys.Recommender { return r.rec }

// Title is an item's title from the catalogue, or "".
func (r *Codec) Title(item string) string { return r.items[item].Title }

// MaxTopN bounds a recommendation list.
const MaxTopN = 10000

// Signature: a user and n (recommend), users and items (predicted ratings,
// or preference scores), or an item and n (similar items).
func (r *Codec) Signature() api.Signature {
	pairs := "the pairs' predicted ratings [N]"
	if r.run.Implicit {
		pairs = "the pairs' preference scores [N] (a model of interactions predicts no rating)"
	}
	return api.Signature{
		Inputs: []api.TensorSpec{
			{Name: "user", Datatype: api.BYTES, Shape: []int64{-1}, Doc: "raw user ids: one with n (recommend), one per pair with item"},
			{Name: "n", Datatype: api.INT32, Shape: []int64{1}, Doc: fmt.Sprintf("how many items to recommend, or similar items to list, 1 to %d", MaxTopN)},
			{Name: "item", Datatype: api.BYTES, Shape: []int64{-1}, Doc: "raw item ids: one per user (pairs), or one with n (similar items)"},
		},
		Outputs: []api.TensorSpec{
			{Name: "items", Datatype: api.BYTES, Shape: []int64{1, -1}, Doc: "the recommended (user and n) or similar (item and n) items, best first"},
			{Name: "titles", Datatype: api.BYTES, Shape: []int64{1, -1}, Doc: "the items' titles from the catalogue (empty without one)"},
			{Name: "scores", Datatype: api.FP32, Shape: []int64{-1, -1}, Doc: "the items' ranking scores [1, n], which ranked_by names (0 when popularity answers for an unknown user); similarities [1, n] (item and n); or " + pairs},
			{Name: "ratings", Datatype: api.FP32, Shape: []int64{1, -1}, Doc: "the recommended items' predicted ratings (models of ratings only)"},
			{Name: "popularity", Datatype: api.INT32, Shape: []int64{1, -1}, Doc: "the items' numbers of training ratings or interactions"},
			{Name: "ranked_by", Datatype: api.BYTES, Shape: []int64{1}, Doc: "what orders the items: the model's score (\"expected relevance\", \"predicted rating\", \"preference\"), \"popularity\" for a user the model does not know, or \"similarity\""},
			{Name: "meaning", Datatype: api.BYTES, Shape: []int64{1}, Doc: "what the ranked_by number is, in a sentence"},
		},
		Groups: [][]string{{"user", "n"}, {"user", "item"}, {"item", "n"}},
	}
}

// Infer recommends items to one user (inputs user and n), scores pairs
// (user and item), or lists the items most like one (item and n).
func (r *Codec) Infer(ctx context.Context, _ kinds.Net, inputs []api.Tensor) ([]api.Tensor, error) {
	in, err := kinds.Inputs(r.Signature(), inputs)
	if err != nil {
		return nil, err
	}
	if nt := in["n"]; nt != nil {
		n := int(nt.INT32[0])
		if n < 1 || n > MaxTopN {
			return nil, api.Invalid(fmt.Errorf("input \"n\": %d, want 1 to %d", n, MaxTopN))
		}
		if it := in["item"]; it != nil {
			return r.inferSimilar(ctx, it.StringsOf(), n)
		}
		users := in["user"].StringsOf()
		if len(users) != 1 {
			return nil, api.Invalid(fmt.Errorf("input %q: %d users, want one with \"n\"", "user", len(users)))
		}
		recs, err := r.Recommend(ctx, api.RecommendRequest{User: users[0], N: n})
		if err != nil {
			return nil, err
		}
		k := len(recs.Items)
		items, titles := make([][]byte, k), make([][]byte, k)
		scores, ratings, pop := make([]float32, k), make([]float32, k), make([]int32, k)
		for i, rec := range recs.Items {
			items[i], titles[i], scores[i], ratings[i], pop[i] = []byte(rec.Item), []byte(rec.Title), rec.Score, rec.Rating, int32(min(rec.Popularity, math.MaxInt32))
		}
		shape := []int64{1, int64(k)}
		out := []api.Tensor{
			{Name: "items", Datatype: api.BYTES, Shape: shape, Bytes: items},
			{Name: "titles", Datatype: api.BYTES, Shape: shape, Bytes: titles},
			{Name: "scores", Datatype: api.FP32, Shape: shape, FP32: scores},
			{Name: "popularity", Datatype: api.INT32, Shape: shape, INT32: pop},
			{Name: "ranked_by", Datatype: api.BYTES, Shape: []int64{1}, Bytes: [][]byte{[]byte(recs.RankedBy)}},
			{Name: "meaning", Datatype: api.BYTES, Shape: []int64{1}, Bytes: [][]byte{[]byte(recs.Meaning)}},
		}
		if recs.Ratings {
			out = append(out, api.Tensor{Name: "ratings", Datatype: api.FP32, Shape: shape, FP32: ratings})
		}
		return out, nil
	}
	users, items := in["user"].StringsOf(), in["item"].StringsOf()
	pairs := make([]api.UserItem, len(users))
	for i := range users {
		pairs[i] = api.UserItem{User: users[i], Item: items[i]}
	}
	ratings, err := r.PredictRatings(ctx, pairs)
	if err != nil {
		return nil, err
	}
	return []api.Tensor{{Name: "scores", Datatype: api.FP32, Shape: []int64{int64(len(ratings))}, FP32: ratings}}, nil
}

// inferSimilar answers the item and n group.
func (r *Codec) inferSimilar(ctx context.Context, item []string, n int) ([]api.Tensor, error) {
	if len(item) != 1 {
		return nil, api.Invalid(fmt.Errorf("input %q: %d items, want one with \"n\"", "item", len(item)))
	}
	if _, ok := r.ids.Items.Index(item[0]); !ok {
		return nil, api.Invalid(fmt.Errorf("input \"item\": unknown item %q: it has no ratings in the training data", item[0]))
	}
	sim, err := r.SimilarItems(ctx, item[0], n)
	if err != nil {
		return nil, err
	}
	k := len(sim)
	items, titles, scores, pop := make([][]byte, k), make([][]byte, k), make([]float32, k), make([]int32, k)
	for i, s := range sim {
		idx, _ := r.ids.Items.Index(s.ID)
		items[i], titles[i], scores[i], pop[i] = []byte(s.ID), []byte(s.Title), float32(s.Score), int32(min(r.train.ItemCount(idx), math.MaxInt32))
	}
	shape := []int64{1, int64(k)}
	name, meaning := r.similarity()
	return []api.Tensor{
		{Name: "items", Datatype: api.BYTES, Shape: shape, Bytes: items},
		{Name: "titles", Datatype: api.BYTES, Shape: shape, Bytes: titles},
		{Name: "scores", Datatype: api.FP32, Shape: shape, FP32: scores},
		{Name: "popularity", Datatype: api.INT32, Shape: shape, INT32: pop},
		{Name: "ranked_by", Datatype: api.BYTES, Shape: []int64{1}, Bytes: [][]byte{[]byte(name)}},
		{Name: "meaning", Datatype: api.BYTES, Shape: []int64{1}, Bytes: [][]byte{[]byte(meaning)}},
	}, nil
}

// similarity names SimilarItems' score and says what it is.
func (r *Codec) similarity() (name, meaning string) {
	if r.run.Algo == AlgoKNN {
		return "similarity", fmt.Sprintf("kNN's %s similarity of the two items' ratings, shrunk towards 0 when few users rated both", r.run.KNN.Similarity)
	}
	return "similarity", "the cosine of the two items' latent factors: 1 for items the model sees as alike"
}

// Cost counts a recommendation's items and scores (2n), or the pairs'
// ratings.
func (r *Codec) Cost(inputs []api.Tensor) (api.Cost, error) {
	var c api.Cost
	for _, t := range inputs {
		switch {
		case t.Name == "n" && len(t.INT32) == 1:
			c.Outputs += 2 * int64(max(t.INT32[0], 0))
		case t.Name == "item":
			c.Outputs += int64(len(t.Bytes))
		}
	}
	return c, nil
}

// Info describes the model.
func (r *Codec) Info() kinds.Info {
	data := fmt.Sprintf("%d users and %d items with training ratings, scale %v to %v", r.ids.Users.Len(), r.ids.Items.Len(), r.run.Scale.Min, r.run.Scale.Max)
	if r.run.Implicit {
		data = fmt.Sprintf("%d users and %d items with training interactions", r.ids.Users.Len(), r.ids.Items.Len())
		if t := r.run.Data.Threshold; t != 0 {
			data += fmt.Sprintf(" (ratings of at least %v)", t)
		}
	}
	lines := []string{fmt.Sprintf("algorithm: %s", r.run.Algo), data}
	var inputs []kinds.TensorShape
	if r.run.Algo == AlgoMF {
		inputs = []kinds.TensorShape{{Name: "user", Shape: []int{1}}, {Name: "item", Shape: []int{1}}}
	}
	sources := []string{r.run.Data.Path}
	if r.run.Data.Items != "" {
		sources = append(sources, r.run.Data.Items)
	}
	return kinds.Info{Family: Family.Name(), Positive: -1, Inputs: inputs, Preprocessing: lines, Data: sources}
}

// userIndex is the user's index, or −1 (unknown: the fallbacks answer)
// when the user has no training ratings.
func (r *Codec) userIndex(user string) int {
	u, ok := r.ids.Users.Index(user)
	if !ok || r.train.UserCount(u) == 0 {
		return -1
	}
	return u
}

// Recommend returns up to req.N items, best first — those the user has in
// training left out unless req.IncludeSeen — each with its ranking score,
// predicted rating (models of ratings) and popularity. A user without
// training ratings gets the most popular items, labelled as such.
func (r *Codec) Recommend(ctx context.Context, req api.RecommendRequest) (api.Recommendations, error) {
	var out api.Recommendations
	if req.N < 1 || req.N > MaxTopN {
		return out, fmt.Errorf("n must be 1 to %d, got %d", MaxTopN, req.N)
	}
	if err := ctx.Err(); err != nil {
		return out, err
	}
	u := r.userIndex(req.User)
	seen := recsys.ExcludeSeen
	if req.IncludeSeen {
		seen = recsys.IncludeSeen
	}
	out.Ratings = !r.run.Implicit
	out.RankedBy, out.Meaning = r.rec.Describe()
	if u < 0 {
		out.Fallback = true
		what := "ratings"
		if r.run.Implicit {
			what = "interactions"
		}
		out.RankedBy, out.Meaning = "popularity", "the item's number of training "+what
	}
	for _, s := range r.rec.Recommend(u, req.N, seen) {
		id := r.ids.Items.Raw(s.Index)
		rec := api.Recommendation{Item: id, Title: r.items[id].Title, Popularity: r.train.ItemCount(s.Index)}
		if !out.Fallback {
			rec.Score = float32(s.Score)
			_, rec.Seen = r.train.Rating(u, s.Index)
		}
		if out.Ratings {
			rec.Rating = float32(r.rec.Predict(u, s.Index))
		}
		out.Items = append(out.Items, rec)
	}
	return out, nil
}

// PredictRatings predicts the rating of each (user, item) pair, clamped
// to the rating scale. An unknown user or item gets the bias model's
// prediction.
func (r *Codec) PredictRatings(ctx context.Context, pairs []api.UserItem) ([]float32, error) {
	if len(pairs) == 0 {
		return nil, fmt.Errorf("no pairs")
	}
	out := make([]float32, len(pairs))
	for k, p := range pairs {
		if k%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		i, ok := r.ids.Items.Index(p.Item)
		if !ok {
			i = -1
		}
		out[k] = float32(r.rec.Predict(r.userIndex(p.User), i))
	}
	return out, nil
}

// Remap re-expresses ratings read from a data file (with d's id maps) in
// the checkpoint's indices; users and items it has never seen become −1
// (unknown), which the recommenders answer with their fallbacks.
func (r *Codec) Remap(d *recsys.Dataset, rs []recsys.Rating) []recsys.Rating {
	out := make([]recsys.Rating, len(rs))
	for k, x := range rs {
		u, ok := r.ids.Users.Index(d.Users.Raw(int(x.User)))
		if !ok {
			u = -1
		}
		i, ok := r.ids.Items.Index(d.Items.Raw(int(x.Item)))
		if !ok {
			i = -1
		}
		out[k] = recsys.Rating{User: int32(u), Item: int32(i), Value: x.Value, Time: x.Time}
	}
	return out
}

// Evaluate scores the recommender on the test split of its run's data, or
// on all of other ratings (kinds.EvalSplit): rating error and ranking
// metrics.
func (r *Codec) Evaluate(ctx context.Context, _ kinds.Net, opt kinds.EvalOptions) (*kinds.EvalReport, error) {
	src := r.run.Data
	if opt.Data != "" {
		src.Path = opt.Data
	}
	if opt.SplitSeed != nil {
		src.Seed = *opt.SplitSeed
	}
	d, _, _, err := src.Load()
	if err != nil {
		return nil, err
	}
	split, testR := kinds.EvalSplit(opt, r.run.Data.Path, false), d.Ratings
	if split == kinds.SplitTest {
		if _, testR, err = src.Split(d); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if d.Implicit != r.run.Implicit {
		return nil, fmt.Errorf("%s: %s, and the model was trained on %s", src.Path, dataKind(d.Implicit), dataKind(r.run.Implicit))
	}
	k := opt.K
	if k == 0 {
		k = r.run.K
	}
	rep, err := recsys.Evaluate(r.rec, r.train, r.Remap(d, testR), recsys.EvalConfig{K: k, RankUsers: opt.RankUsers, Seed: src.Seed, Implicit: r.run.Implicit})
	if err != nil {
		return nil, err
	}
	return &kinds.EvalReport{Data: src.Path, N: rep.N, Split: split, Rows: len(d.Ratings), Metrics: rep.Named(), Detail: rep.String(), Fields: map[string]any{"algo": r.run.Algo}}, nil
}

// dataKind words what a dataset holds.
func dataKind(implicit bool) string {
	if implicit {
		return "interactions"
	}
	return "ratings"
}

// Explanation relates a recommender's predicted rating of (User, Item) to
// the training ratings behind it, or a model of interactions' preference
// score to the user's interactions.
type Explanation struct {
	User string `json:"user"`
	Item string `json:"item"`
	// Prediction is the predicted rating, clamped to the rating scale, or
	// a model of interactions' preference score (Implicit).
	Prediction float64 `json:"prediction"`
	Method     string  `json:"method"`
	// Implicit: the model is of interactions; a contribution's Rating is
	// the interaction's weight.
	Implicit bool `json:"implicit,omitempty"`
	// Contributions, largest |Contribution| first: for kNN the neighbours
	// the prediction averages over (user-based: users who rated the item;
	// item-based: items the user rated), whose contributions and Centre add
	// up to the unclamped prediction; for MF the items the user rated,
	// scored by their item-factor similarity with Item (see
	// mf.Recommender.Explain — not a decomposition); for iALS the items the
	// user interacted with, whose contributions add up to Exact; for BPR
	// those items by factor similarity (see recsys.Implicit.Explain).
	Contributions []Contribution `json:"contributions"`
	Centre        float64        `json:"centre,omitempty"` // kNN: the mean the neighbours' terms are added to
	Terms         *mf.Terms      `json:"terms,omitempty"`  // MF: μ, b_u, b_i and p_u·q_i
	// Exact is iALS's score with the user's factors solved exactly, which
	// the contributions add up to (Prediction used the trained factors).
	Exact float64 `json:"exact,omitempty"`
	Note  string  `json:"note,omitempty"`
}

// Contribution is one neighbour's or rated item's part.
type Contribution struct {
	Kind         string  `json:"kind"` // "user" or "item"
	ID           string  `json:"id"`
	Title        string  `json:"title,omitempty"`
	Similarity   float64 `json:"similarity"`
	Rating       float64 `json:"rating"` // the rating, or an interaction's weight
	Contribution float64 `json:"contribution"`
}

// Explain explains the prediction for (user, item): kNN's neighbours, MF's
// rated items through item-factor similarity, the items behind an iALS
// or BPR score. An unknown user or item is an error, as is an algorithm
// without an explanation (SVD).
func (r *Codec) Explain(ctx context.Context, user, item string) (Explanation, error) {
	out := Explanation{User: user, Item: item}
	if err := ctx.Err(); err != nil {
		return out, err
	}
	u := r.userIndex(user)
	if u < 0 {
		return out, fmt.Errorf("user %q has no training ratings", user)
	}
	i, ok := r.ids.Items.Index(item)
	if !ok || r.train.ItemCount(i) == 0 {
		return out, fmt.Errorf("item %q has no training ratings", item)
	}
	out.Prediction = r.rec.Predict(u, i)
	var cs []recsys.Contribution
	switch rec := r.rec.(type) {
	case *recsys.KNN:
		out.Method = "knn " + rec.Config.Based + "-based neighbours"
		var found bool
		if out.Centre, cs, found = rec.Explain(u, i); !found {
			out.Note = "no neighbour rated it: the prediction is the bias model's"
		}
	case *recsys.Implicit:
		out.Implicit = true
		var ok bool
		if out.Exact, cs, ok = rec.Explain(u, i); !ok {
			return out, fmt.Errorf("no explanation of (%q, %q): the system of the user's factors could not be solved", user, item)
		}
		if rec.Algo == AlgoIALS {
			out.Method = "ials: the user's interactions, exactly"
			out.Note = fmt.Sprintf("score = Σ over the user's items j of c_uj · y_iᵀ W_u y_j (Hu et al.), = %.4f with the user's factors solved exactly; the served %.4f comes from the training's conjugate gradient steps", out.Exact, out.Prediction)
		} else {
			out.Exact = 0
			out.Method = "bpr item-factor similarity"
			out.Note = "contributions = cos(q_item, q_j) for the user's items j: a reading of the factors, not a decomposition of the score"
		}
	case *mf.Recommender:
		out.Method = "mf item-factor similarity"
		t, c, _ := rec.Explain(u, i)
		out.Terms, cs = &t, c
		out.Note = fmt.Sprintf("prediction = μ %.3f + b_u %.3f + b_i %.3f + p_u·q_i %.3f (clamped); contributions = (the user's rating − their mean) × cos(q_rated, q_item), a reading of the factors, not a decomposition of p_u·q_i",
			t.Global, t.UserBias, t.ItemBias, t.Dot)
	default:
		return out, fmt.Errorf("no explanation for the %s algorithm (kNN, MF, iALS and BPR have one)", r.run.Algo)
	}
	for _, c := range cs {
		x := Contribution{Kind: c.Kind, Similarity: c.Similarity, Rating: c.Rating, Contribution: c.Contribution}
		if c.Kind == recsys.UserBased {
			x.ID = r.ids.Users.Raw(c.Index)
		} else {
			x.ID = r.ids.Items.Raw(c.Index)
			x.Title = r.items[x.ID].Title
		}
		out.Contributions = append(out.Contributions, x)
	}
	return out, nil
}

// Splits reads the run's ratings, as training split them, as matrix
// factorization's (user, item) → rating datasets; the test split keeps
// only pairs of users and items the model knows. A recommender run has no
// validation split.
func (r *Codec) Splits(ctx context.Context) (train, val, test dataset.Dataset, err error) {
	d, _, _, err := r.run.Data.Load()
	if err != nil {
		return nil, nil, nil, err
	}
	trainR, testR, err := r.run.Data.Split(d)
	if err != nil {
		return nil, nil, nil, err
	}
	var known []recsys.Rating
	for _, x := range r.Remap(d, testR) {
		if x.User >= 0 && x.Item >= 0 {
			known = append(known, x)
		}
	}
	return mf.Dataset(r.Remap(d, trainR)), nil, mf.Dataset(known), nil
}

// KnowsUser reports whether the user has training ratings.
func (r *Codec) KnowsUser(user string) bool { return r.userIndex(user) >= 0 }

// SimilarUsers lists the users most like user.
func (r *Codec) SimilarUsers(ctx context.Context, user string, n int) ([]api.Neighbour, error) {
	u, ok := r.ids.Users.Index(user)
	if !ok {
		return nil, fmt.Errorf("unknown user %q: it has no ratings in the training data", user)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []api.Neighbour
	for _, s := range r.rec.SimilarUsers(u, n) {
		out = append(out, api.Neighbour{ID: r.ids.Users.Raw(s.Index), Score: s.Score})
	}
	return out, nil
}

// SimilarItems lists the items most like item.
func (r *Codec) SimilarItems(ctx context.Context, item string, n int) ([]api.Neighbour, error) {
	i, ok := r.ids.Items.Index(item)
	if !ok {
		return nil, fmt.Errorf("unknown item %q: it has no ratings in the training data", item)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []api.Neighbour
	for _, s := range r.rec.SimilarItems(i, n) {
		id := r.ids.Items.Raw(s.Index)
		out = append(out, api.Neighbour{ID: id, Title: r.items[id].Title, Score: s.Score})
	}
	return out, nil
}
