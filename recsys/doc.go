// Package recsys is tapeml's collaborative filtering: ratings data, the
// neighbourhood and SVD recommenders, a popularity baseline, and the
// ranking metrics. Matrix factorization, which trains as a Gorgonia graph,
// lives in models/recsys and serves the same Recommender interface.
//
// # Data
//
// ReadRatings reads MovieLens ratings files — ratings.csv (ml-latest,
// ml-latest-small, ml-25m), u.data (ml-100k), ratings.dat (ml-1m, ml-10m)
// — into a Dataset: ratings over dense user and item indices, with the
// IDMaps that give the raw ids back (they marshal to JSON for checkpoints).
// A malformed row (a missing field, a non-numeric or out-of-scale rating) is
// an error naming the file and line, unless ReadOptions.SkipMalformed, which
// skips and counts them; a repeated (user, item) pair keeps the last rating
// and is counted (ReadReport). ReadItems reads titles and genres from
// movies.csv, u.item (Latin-1) or movies.dat.
//
// RandomSplit holds out a seeded 20% (the default); LeaveLastOut holds out
// each user's k latest ratings. samples.Ratings is a built-in synthetic set
// (low-rank ratings with popularity skew, made by tools/synth).
//
// # Models
//
// Every model is fitted on a Matrix (the training ratings indexed by user
// and by item) and implements Recommender: Predict, Recommend (excluding
// what the user rated), SimilarUsers and SimilarItems. Users and items
// without training ratings fall back to the Baseline (μ + b_u + b_i, damped
// means) for predictions and to popularity for recommendations.
//
//   - Popularity: the most-rated items; the baseline to beat.
//   - KNN: user–user or item–item Pearson or cosine similarity with
//     shrinkage, K nearest neighbours, mean-centred predictions. Similarity
//     rows are computed through the inverted index, never as a dense
//     users × users matrix, and only the Keep best are stored.
//   - SVD: truncated SVD of the centred rating matrix by a randomized
//     range finder over sparse products and gonum's SVD.
//
// Recommend orders items by expected relevance by default — the share of
// users who rated the item times the chance the user's rating reaches the
// relevance threshold — since ordering by predicted rating alone
// recommends obscure items and loses to popularity; see Ranking.
//
// # Metrics
//
// Evaluate gives RMSE and MAE over the test ratings, and Precision, Recall,
// NDCG, MAP and HitRate at K (default 10) with catalogue coverage over the
// test users. A held-out item is relevant when its rating is at least 4
// (EvalConfig.Relevance); a user's list is ranked among all items with
// training ratings that the user did not rate in training, and users without
// a relevant test item are not ranked. Precision divides by K, NDCG uses
// binary gains and log2(rank+1) discounts, MAP divides by min(|relevant|, K).
//
// # Saving
//
// RatingsTensors stores the training ratings a checkpoint needs (to exclude
// seen items and refit baselines); KNN and SVD have Tensors and LoadKNN /
// LoadSVD, which rebuild the model from those tensors and the training
// ratings without refitting.
package recsys
