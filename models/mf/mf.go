package mf

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/recsys"
	"github.com/tapeml/tapeml/train"
	"github.com/tapeml/tapeml/train/optim"
)

// Kind names the model in checkpoints.
const Kind = "recsys-mf"

// Parameter names, as the equivalent PyTorch module's state_dict has them.
const (
	UserFactors = "user_factors.weight" // [users, factors]
	ItemFactors = "item_factors.weight" // [items, factors]
	UserBias    = "user_bias.weight"    // [users, 1]
	ItemBias    = "item_bias.weight"    // [items, 1]
	GlobalBias  = "global_bias"         // [1]
)

// Config is the model. Users and Items are required; a zero field otherwise
// takes its default.
type Config struct {
	Users   int `json:"users"`   // rows of the user tables: the user id map's size
	Items   int `json:"items"`   // rows of the item tables: the item id map's size
	Factors int `json:"factors"` // latent factors per user and item; default 64
	// Reg weighs the L2 penalty Reg·mean over the batch of
	// (‖p_u‖² + ‖q_i‖² + b_u² + b_i²), so each rating regularises its own
	// rows, as in Funk's SGD; default 0.1.
	Reg float64 `json:"reg"`
	// InitStd is the standard deviation of the factors' N(0, σ²)
	// initialisation; biases start at 0; default 0.1.
	InitStd float64 `json:"init_std"`
	// GlobalMean is global_bias's initial value: set it to the training
	// mean (FitConfig does).
	GlobalMean float64 `json:"global_mean"`
	// Scale is the rating scale predictions are clamped to in the
	// evaluation graph and by the Recommender; default 0.5–5.
	Scale recsys.Scale `json:"scale"`
	// Ranking orders the Recommender's lists; default by expected
	// relevance (see recsys.Ranking).
	Ranking recsys.Ranking `json:"ranking"`
}

// DefaultConfig returns the defaults for a dataset of the given size.
func DefaultConfig(users, items int) Config {
	return Config{Users: users, Items: items}.WithDefaults()
}

// WithDefaults fills in zero fields.
func (c Config) WithDefaults() Config {
	if c.Factors == 0 {
		c.Factors = 64
	}
	if c.Reg == 0 {
		c.Reg = 0.1
	}
	if c.InitStd == 0 {
		c.InitStd = 0.1
	}
	if c.Scale == (recsys.Scale{}) {
		c.Scale = recsys.DefaultScale
	}
	c.Ranking = c.Ranking.WithDefaults()
	return c
}

// Validate reports the first field that cannot build a model.
func (c Config) Validate() error {
	switch {
	case c.Users < 1 || c.Items < 1:
		return fmt.Errorf("mf: users %d and items %d must be at least 1", c.Users, c.Items)
	case c.Users > 1<<24 || c.Items > 1<<24:
		return fmt.Errorf("mf: users %d and items %d must be at most 2^24: ids travel as float32", c.Users, c.Items)
	case c.Factors < 1:
		return train.Invalidf("mf: %s must be at least 1, got %d", train.Field("factors"), c.Factors)
	case c.Reg < 0 || math.IsNaN(c.Reg) || math.IsInf(c.Reg, 0):
		return train.Invalidf("mf: %s must be a non-negative number, got %v", train.Field("reg"), c.Reg)
	case !(c.InitStd > 0) || math.IsInf(c.InitStd, 0):
		return fmt.Errorf("mf: init_std must be positive, got %v", c.InitStd)
	}
	if err := c.Scale.Validate(); err != nil {
		return fmt.Errorf("mf: scale: %w", err)
	}
	if g := float32(c.GlobalMean); math.IsNaN(c.GlobalMean) || math.IsInf(float64(g), 0) {
		return fmt.Errorf("mf: global_mean %v is not a finite float32", c.GlobalMean)
	}
	if err := c.checkLimits(); err != nil {
		return err
	}
	return c.Ranking.Validate()
}

// FitConfig returns the default configuration for training data d's id
// maps and scale, with global_bias starting at the mean of train.
func FitConfig(d *recsys.Dataset, trainRatings []recsys.Rating) Config {
	c := DefaultConfig(d.NumUsers(), d.NumItems())
	c.Scale = d.Scale
	var s float64
	for _, r := range trainRatings {
		s += float64(r.Value)
	}
	if len(trainRatings) > 0 {
		c.GlobalMean = s / float64(len(trainRatings))
	}
	return c
}

// DefaultTraining is the training configuration the defaults were
// calibrated with: Adam, lr 0.01, batch 1024, 10 epochs, the best epoch by
// validation RMSE.
func DefaultTraining() train.Config {
	return train.Config{
		Epochs:    10,
		Batch:     1024,
		LR:        0.01,
		Optimizer: optim.Config{Name: optim.Adam},
		Monitor:   "val/rmse",
	}.Defaults()
}

// Model is biased matrix factorization, r̂ = μ + b_u + b_i + p_u·q_i.
type Model struct{ Config Config }

// New returns the model for cfg (defaults filled in).
func New(cfg Config) (*Model, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Model{Config: cfg}, nil
}

// Task says the output is a regression.
func (m *Model) Task() metrics.Task { return metrics.Regression }

// Build adds the forward pass for a batch of n ratings: inputs "user" and
// "item" [n, 1] (dense indices as floats), output the predictions [n]. The
// evaluation and serving graphs clamp the predictions to the scale.
func (m *Model) Build(b *graph.Builder, n int) (graph.Outputs, error) {
	c := m.Config
	user := b.Input("user", n, 1)
	item := b.Input("item", n, 1)

	// Create the tables with MF's initialisation before Embedding asks for
	// them (it would use N(0, 1)); it then finds them by name.
	b.Param(UserFactors, []int{c.Users, c.Factors}, graph.Normal(c.InitStd))
	b.Param(ItemFactors, []int{c.Items, c.Factors}, graph.Normal(c.InitStd))
	b.Param(UserBias, []int{c.Users, 1}, graph.Constant(0))
	b.Param(ItemBias, []int{c.Items, 1}, graph.Constant(0))
	mu := b.Param(GlobalBias, []int{1}, graph.Constant(c.GlobalMean))

	p := graph.Flatten(graph.Embedding(b, "user_factors", user, c.Users, c.Factors, graph.NoPadding)) // [n, F]
	q := graph.Flatten(graph.Embedding(b, "item_factors", item, c.Items, c.Factors, graph.NoPadding)) // [n, F]
	bu := graph.Flatten(graph.Embedding(b, "user_bias", user, c.Users, 1, graph.NoPadding))           // [n, 1]
	bi := graph.Flatten(graph.Embedding(b, "item_bias", item, c.Items, 1, graph.NoPadding))           // [n, 1]

	vec := func(x *G.Node) (*G.Node, error) { return G.Reshape(x, tensor.Shape{n}) }
	buv, err := vec(bu)
	if err != nil {
		return graph.Outputs{}, err
	}
	biv, err := vec(bi)
	if err != nil {
		return graph.Outputs{}, err
	}
	pred, err := sum(graph.RowDot(p, q), buv, biv)
	if err != nil {
		return graph.Outputs{}, err
	}
	// A layer op rather than Gorgonia's broadcast add, so that the global
	// bias has per-example gradients (differentially private training).
	pred = graph.AddScalar(pred, mu)
	out := graph.Outputs{
		Inputs: []*G.Node{user, item},
		Aux:    map[string]*G.Node{"pred": pred, "p": p, "q": q, "bu": bu, "bi": bi},
	}
	if !b.Training() {
		out.Output = graph.Clamp(pred, c.Scale.Min, c.Scale.Max)
		return out, nil
	}
	// The output is a copy (a clamp to ±MaxFloat32): Gorgonia may compute
	// the loss in place over pred, which would clobber what the trainer
	// reads as the predictions.
	out.Output = graph.Clamp(pred, -math.MaxFloat32, math.MaxFloat32)
	return out, nil
}

// Loss is, against target "rating" [n], the MSE of the evaluation graph's
// clamped predictions; in training, the MSE of the unclamped predictions
// plus the L2 penalty on the batch's rows.
func (m *Model) Loss(b *graph.Builder, out graph.Outputs) (graph.Objective, error) {
	c := m.Config
	rating := b.Input("rating", out.Output.Shape()[0])
	obj := graph.Objective{Target: rating}
	if !b.Training() {
		obj.Loss = graph.MSE(out.Output, rating)
		return obj, nil
	}
	pred, p, q, bu, bi := out.Aux["pred"], out.Aux["p"], out.Aux["q"], out.Aux["bu"], out.Aux["bi"]
	if c.Reg == 0 {
		obj.Loss = graph.MSE(pred, rating)
		return obj, nil
	}
	// mean over the batch of (r̂ − r)² + Reg·(‖p_u‖² + ‖q_i‖² + b_u² + b_i²):
	// MSE plus the penalty, which only reaches the batch's rows. (Built
	// from Gorgonia's ops in one mean: Gorgonia cannot add the MSE
	// kernel's 0-d tensor to its own scalars.)
	norms, err := sum(graph.RowDot(p, p), graph.RowDot(q, q), graph.RowDot(bu, bu), graph.RowDot(bi, bi))
	if err != nil {
		return obj, err
	}
	var reg *G.Node
	if b.Dtype() == tensor.Float64 {
		reg = G.NewConstant(c.Reg)
	} else {
		reg = G.NewConstant(float32(c.Reg))
	}
	diff, err := G.Sub(pred, rating)
	if err != nil {
		return obj, err
	}
	sq, err := G.Square(diff)
	if err != nil {
		return obj, err
	}
	penalty, err := G.Mul(norms, reg)
	if err != nil {
		return obj, err
	}
	perRating, err := G.Add(sq, penalty)
	if err != nil {
		return obj, err
	}
	if obj.Loss, err = G.Mean(perRating); err != nil {
		return obj, err
	}
	return obj, nil
}

// sum adds same-shaped nodes.
func sum(xs ...*G.Node) (*G.Node, error) {
	acc := xs[0]
	for _, x := range xs[1:] {
		var err error
		if acc, err = G.Add(acc, x); err != nil {
			return nil, err
		}
	}
	return acc, nil
}

// Dataset turns ratings into the trainer's examples: inputs "user" and
// "item" (one float each), target the rating.
func Dataset(rs []recsys.Rating) *dataset.Tensors {
	users := make([]float32, len(rs))
	items := make([]float32, len(rs))
	ratings := make([]float32, len(rs))
	for k, r := range rs {
		users[k], items[k], ratings[k] = float32(r.User), float32(r.Item), r.Value
	}
	return &dataset.Tensors{Inputs: [][]float32{users, items}, InputShapes: [][]int{{1}, {1}}, Targets: ratings}
}

// Training is the training setup the defaults were calibrated with
// (DefaultTraining).
func (Config) Training() train.Config { return DefaultTraining() }
