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
	Item  string // the raw item id, as in the ratings file
	Title string // from the item catalogue, when the model has one
	// Score is the model's ranking score for the user, which
	// Recommendations.RankedBy names; 0 when popularity answers for a
	// user the model does not know (Recommendations.Fallback).
	Score float32
	// Rating is the predicted rating, for models of ratings
	// (Recommendations.Ratings); 0 for models of interactions.
	Rating float32
	// Popularity is the item's number of training ratings or
	// interactions: what the popularity fallback ranks by.
	Popularity int
	// Seen says the user has the item in training (listed only when
	// RecommendRequest.IncludeSeen).
	Seen bool
}

// RecommendRequest asks a recommender for one user's list.
type RecommendRequest struct {
	User string // the raw user id
	N    int    // how many items
	// IncludeSeen ranks the items the user has in training too (marked
	// Seen); by default they are left out.
	IncludeSeen bool
}

// Recommendations is a recommender's answer to a RecommendRequest.
type Recommendations struct {
	Items []Recommendation // best first
	// RankedBy names what orders Items: the model's score ("expected
	// relevance", "predicted rating", "preference"), or "popularity" when
	// the model does not know the user (Fallback).
	RankedBy string
	// Meaning says in a sentence what the RankedBy number is.
	Meaning string
	// Fallback says the model does not know the user (no training
	// ratings or interactions), so the most popular items answer, ranked
	// by Popularity, and Score is 0.
	Fallback bool
	// Ratings says that Rating holds predicted ratings (models of
	// ratings; models of interactions predict none).
	Ratings bool
}

// UserItem is a (user, item) pair of raw ids.
type UserItem struct{ User, Item string }

// Neighbour is a user or item similar to another one.
type Neighbour struct {
	ID    string  // the raw user or item id
	Title string  // an item's title, from the catalogue, when the model has one
	Score float64 // the similarity the algorithm ranks by
}
