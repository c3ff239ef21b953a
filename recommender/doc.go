// Package recommender is the recommender family and its one kind,
// "recsys": collaborative filtering on (user, item, rating) data, by one
// of three algorithms — matrix factorization (a network, package
// models/mf, trained by the generic trainer), user/item kNN and truncated
// SVD (package recsys, fitted directly).
//
// A recommender's checkpoint carries, besides the algorithm's weights, the
// id maps (raw ids ↔ indices) and its training ratings
// (train_ratings.safetensors: the items a user has rated are excluded from
// their recommendations, and the baselines are fitted on them), and the
// item catalogue when there is one (items.json: titles).
package recommender
