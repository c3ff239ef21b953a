package api

// Prediction is a classifier's answer for one input.
type Prediction struct {
	Label int     // index of Class among the model's classes
	Class string  // the predicted class's name
	Prob  float32 // the probability of Class
	// Probs is the probability of every class, in class order; a binary
	// text model gives two.
	Probs []float32
	// NoEvidence says the input held nothing the model knows — a text
	// without a known token — so Probs is the training set's class prior
	// (or, for a checkpoint that does not record it, the model's output
	// for such an input).
	NoEvidence bool
}

// Recommendation is one recommended item.
type Recommendation struct {
	Item  string  // the raw item id, as in the ratings file
	Title string  // from the item catalogue, when the model has one
	Score float32 // the ranking score (see recsys.Ranking)
}

// UserItem is a (user, item) pair of raw ids.
type UserItem struct{ User, Item string }

// Neighbour is a user or item similar to another one.
type Neighbour struct {
	ID    string  // the raw user or item id
	Title string  // an item's title, from the catalogue, when the model has one
	Score float64 // the similarity the algorithm ranks by
}
