package kinds

import (
	"context"
	"image"
	"os"
	"path/filepath"

	"github.com/tapeml/tapeml/api"
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/metrics"
)

// Family is what a group of kinds share: the raw inputs they read and the
// answers they give (texts → classes, images → classes, users and items →
// recommendations), the run format and preprocessing their checkpoints
// carry, and the data they train and are evaluated on.
type Family interface {
	// Name is the family's name: "text", "image", "recommender".
	Name() string
	// Open reads the family's part of a checkpoint — the run (where the
	// data came from) and the preprocessing — checks it against the kind's
	// configuration and returns the model's codec. It reads only c, never
	// a file, and allocates nothing the checks have not bounded.
	Open(c *checkpoint.Checkpoint, k *Kind, cfg Config) (Codec, error)
}

// Codec is one model's family state: it turns raw inputs into network
// inputs and the network's outputs into answers.
type Codec interface {
	// Signature describes the raw inputs and the outputs, as a server
	// speaks them.
	Signature() api.Signature
	// Infer answers raw inputs given as Signature describes them: one of
	// its input groups, each tensor checked against its spec. net runs the
	// network; it is nil for models that are not networks.
	Infer(ctx context.Context, net Net, inputs []api.Tensor) ([]api.Tensor, error)
	// Info describes the model for users.
	Info() Info
}

// Net runs a network's serving graph: n examples given as one flat slice
// of n·width values per input, n·OutputWidth outputs back.
type Net interface {
	Forward(ctx context.Context, inputs [][]float32, n int) ([]float32, error)
}

// Info is what a user is told about a model.
type Info struct {
	Family  string
	Classes []string // a classifier's class names, in label order
	// Positive is the index of the class a binary classifier's logit
	// scores; -1 for others.
	Positive int
	// Inputs describes Forward's inputs per example: token ids [MaxLen],
	// normalized images [C, H, W], user and item indices [1].
	Inputs []TensorShape
	// Preprocessing summarizes, a line each, what happens to a raw input
	// before the network sees it.
	Preprocessing []string
	// Data lists the files, folders or built-in names (dataset.BuiltinPrefix)
	// the model was trained on, as its checkpoint records them: what a
	// model card hashes.
	Data []string
}

// TensorShape names a network input and its shape per example.
type TensorShape struct {
	Name  string
	Shape []int
}

// The codecs' typed capabilities, for the runtime's Go API (ClassifyTexts,
// ClassifyImages, Recommend) and the tools built on it; Infer covers the
// same ground in named tensors.

// Classifier is a codec whose model answers with a class.
type Classifier interface {
	// Predictions reads n rows of network outputs (logits).
	Predictions(logits []float32, n int) []api.Prediction
	// Target resolves a class to explain, by name ("" for the default:
	// a binary model's positive class, else the predicted one, pred): the
	// weight of each output in the explained score, the class's name, and
	// the score's sign (−1 when a binary model's other class is explained
	// as the negated logit).
	Target(target string, pred api.Prediction) (sel []float32, class string, sign float64, err error)
}

// InputClassifier is a Classifier whose answers also read the network's
// inputs: a text model answers a text with no known token with its
// training prior (api.Prediction.NoEvidence).
type InputClassifier interface {
	// PredictionsFor reads n rows of logits computed from inputs (one
	// flat slice per network input, as Net.Forward takes them).
	PredictionsFor(inputs [][]float32, logits []float32, n int) []api.Prediction
}

// TextEncoder is a codec whose model reads texts.
type TextEncoder interface {
	// EncodeTexts cleans, tokenizes and pads raw texts: len(texts)·MaxLen
	// token ids, row by row.
	EncodeTexts(texts []string) ([]float32, error)
	// Tokens explains an encoding: which tokens of a cleaned text its row
	// of ids holds, where, and what was left out.
	Tokens(clean string, row []float32) (Encoding, error)
	// Clean cleans a raw text as EncodeTexts does.
	Clean(raw string) string
	MaxLen() int
	PadID() int // the id padding positions hold
}

// Encoding is how one text became a row of token ids.
type Encoding struct {
	Tokens []Token // the tokens the row holds, in order
	// Unknown lists the words the vocabulary lacks, which the model never
	// sees (unless it has an out-of-vocabulary token).
	Unknown []string
	// Truncated is how many tokens were cut to fit the model's length;
	// TruncatedFrom says where from: "start" or "end".
	Truncated     int
	TruncatedFrom string
}

// Token is one token of an encoded text.
type Token struct {
	Text     string // as written (case kept), after cleaning
	ID       int    // vocabulary index
	Position int    // in the model's input row
}

// ImageEncoder is a codec whose model reads images.
type ImageEncoder interface {
	// EncodeImages resizes, converts and normalizes decoded images as at
	// training: n·C·H·W values. notes says, per image, what was done to
	// it beyond normalizing ("resized from 64×64"), or "".
	EncodeImages(images []image.Image) (x []float32, notes []string, err error)
	// NormalizePixels normalizes n images of raw pixels in [0, 255] at
	// the model's size, into a new slice.
	NormalizePixels(pixels []float32, n int) ([]float32, error)
	// Denormalize maps one normalized image back to 8-bit pixels.
	Denormalize(x []float32) []uint8
	// ImageShape is the model's [C, H, W].
	ImageShape() [3]int
}

// Recommender is a codec whose model recommends items.
type Recommender interface {
	// Recommend returns up to req.N items, best first, those the user has
	// in training left out unless req.IncludeSeen, and says what ranks
	// them; an unknown user gets the most popular items (Fallback).
	Recommend(ctx context.Context, req api.RecommendRequest) (api.Recommendations, error)
	// PredictRatings predicts the rating of each pair (a model of
	// interactions: its preference score).
	PredictRatings(ctx context.Context, pairs []api.UserItem) ([]float32, error)
	// KnowsUser reports whether the user has training ratings (an unknown
	// one is recommended popular items).
	KnowsUser(user string) bool
	// SimilarUsers and SimilarItems list up to n users or items most like
	// the given one, most similar first (none for algorithms without a
	// similarity); one without training ratings is an error.
	SimilarUsers(ctx context.Context, user string, n int) ([]api.Neighbour, error)
	SimilarItems(ctx context.Context, item string, n int) ([]api.Neighbour, error)
}

// Coster is a codec that can tell what answering raw inputs will take
// before doing any of it: image files' decoded sizes from their headers,
// a recommendation's length. Inputs it cannot read are an api.InputError.
type Coster interface {
	Cost(inputs []api.Tensor) (api.Cost, error)
}

// Sampler is a codec that can give raw examples of its run's test split,
// with their true classes, as its Signature takes them: what `tapeml
// explain --test` explains.
type Sampler interface {
	TestSample(ctx context.Context, n int) (inputs []api.Tensor, labels []string, err error)
}

// Splitter is a codec that can read its run's data again, split as
// training split it, as datasets of its network's inputs: for evaluation,
// quantization's calibration, resuming. A split the run does not have is
// nil.
type Splitter interface {
	Splits(ctx context.Context) (train, val, test dataset.Dataset, err error)
}

// Evaluator is a codec that can score its model on labelled data of its
// family: the test split of its own run's data, or of other data.
type Evaluator interface {
	Evaluate(ctx context.Context, net Net, opt EvalOptions) (*EvalReport, error)
}

// What an evaluation scores (EvalReport.Split).
const (
	// SplitTest: a test split — of the run's own data, split as at
	// training (the rest was trained on), or the one other data ships
	// (a test folder, IDX t10k files).
	SplitTest = "test"
	// SplitAll: every example of other data that ships no test split (a
	// CSV file, a folder without split folders): none of it was trained
	// on, so all of it is scored.
	SplitAll = "all"
)

// EvalSplit is what an evaluation with opt scores: SplitTest for the run's
// own data (runData) or for data that ships its test split (testGiven),
// SplitAll for other data. Data is the run's when opt.Data is empty or
// names the same built-in set, file or folder; when runData cannot be
// found from here (a relative path from another folder) a file of the
// same name counts as the run's, and so does a copy (same name and size):
// scoring all of the run's data would score what it was trained on.
func EvalSplit(opt EvalOptions, runData string, testGiven bool) string {
	if opt.Data == "" || opt.Data == runData || testGiven {
		return SplitTest
	}
	if filepath.Base(opt.Data) != filepath.Base(runData) {
		return SplitAll
	}
	a, errA := os.Stat(opt.Data)
	b, errB := os.Stat(runData)
	if errA != nil || errB != nil || os.SameFile(a, b) || (a.Mode().IsRegular() && b.Mode().IsRegular() && a.Size() == b.Size()) {
		return SplitTest
	}
	return SplitAll
}

// EvalOptions says what to evaluate on.
type EvalOptions struct {
	// Data replaces the run's data source (a path); "" means the run's own.
	Data string
	// SplitSeed, when not nil, splits data that ships no test split with
	// this seed instead of the run's: two models trained with different
	// seeds are then scored on the same examples (tapeml compare).
	SplitSeed *uint64
	// Batch is the largest batch run at once.
	Batch int
	// RankUsers bounds the users a recommender's ranking metrics sample
	// (0: all).
	RankUsers int
	// K is a recommender's ranking list length (0: the run's own, or 10).
	K int
	// Notes receives remarks worth a user's attention (images resized).
	Notes func(string)
}

// EvalReport is an evaluation's result.
type EvalReport struct {
	Data string // the data source evaluated on
	N    int    // examples (ratings) scored
	// Split says which of Data's examples were scored: SplitTest or
	// SplitAll (see EvalSplit); Rows is how many examples (ratings) Data
	// holds in all splits.
	Split   string
	Rows    int
	Metrics []metrics.Named
	// Confusion is a classifier's confusion matrix, rows and columns in
	// the order of Classes, its class names. (A NaN output is an error,
	// *api.NonFiniteError, never a report.)
	Confusion metrics.Confusion
	Classes   []string
	// Probs holds a classifier's class probabilities for each example
	// (N×len(Classes), row by row, a binary model's two included) and
	// Labels each example's true class: what ROC and precision–recall
	// curves are drawn from. nil with Confusion.
	Probs  []float32
	Labels []int
	// Sources names each example of a classifier's report (a file path,
	// "file.csv:line N"), in the order of Labels; nil when unknown.
	Sources []string
	// Detail is printed under the metrics line ("" for none); JSON
	// carries Fields.
	Detail string
	Fields map[string]any
}
