package api

// Prediction is a classifier's answer for one input.
type Prediction struct {
	Label int     // index of Class among the model's classes
	Class string  // the predicted class's name
	Prob  float32 // the probability of Class
	// Probs is the probability of every class, in class order; a binary
	// text model gives two.
	Probs []float32
}

// Recommendation is one recommended item.
type Recommendation struct {
	Item  string  // the raw item id, as in the ratings file
	Title string  // from the item catalogue, when the model has one
	Score float32 // the ranking score (see recsys.Ranking)
}

// UserItem is a (user, item) pair of raw ids.
type UserItem struct{ User, Item string }
