package recsys

// Popularity is the baseline every recommender must beat: it recommends the
// most-rated items the user has not rated, the same to everyone, and
// predicts ratings with the bias model.
type Popularity struct {
	Train    *Matrix
	Baseline *Baseline
}

// FitPopularity counts the training ratings.
func FitPopularity(train *Matrix, scale Scale) *Popularity {
	return &Popularity{Train: train, Baseline: FitBaseline(train, scale)}
}

// Predict is the baseline μ + b_u + b_i.
func (p *Popularity) Predict(user, item int) float64 { return p.Baseline.Predict(user, item) }

// Recommend returns the most-rated unseen items; Score is the number of
// training ratings.
func (p *Popularity) Recommend(user, n int, seen Seen) []Scored {
	return p.Baseline.Popular(p.Train, user, n, seen)
}

// Describe says the score is the rating count.
func (p *Popularity) Describe() (name, meaning string) {
	return "popularity", "the item's number of training ratings or interactions"
}

// SimilarUsers is nil: popularity knows nothing about users.
func (p *Popularity) SimilarUsers(user, n int) []Scored { return nil }

// SimilarItems is nil: popularity knows nothing about items' relations.
func (p *Popularity) SimilarItems(item, n int) []Scored { return nil }
