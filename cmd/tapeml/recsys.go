package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/api"
	"github.com/tapeml/tapeml/predictio"
)

func recommendCmd(e env) *cobra.Command {
	var ckpt, user string
	var n int
	var asJSON, excludeSeen bool
	c := &cobra.Command{
		Use:   "recommend --checkpoint DIR --user ID [-n N] [--exclude-seen=false] [--json]",
		Short: "recommend items to a user from a recommender checkpoint",
		Long: `Recommend items to a user from a recommender checkpoint.

The text output starts with a header saying what ranks the list, then a
line per item: rank, item id, the ranking score (what the header names:
a model of ratings ranks by expected relevance or by predicted rating, a
model of interactions by its preference score), the predicted rating
(models of ratings), the item's popularity (its training ratings or
interactions) and its title. A user the model does not know (no training
data) gets the most popular items instead, ranked by popularity and
labelled so. --json prints one object per item instead: rank, item,
title, ranked_by, ranking_score (absent for the popularity fallback),
predicted_rating (models of ratings), popularity, fallback ("popularity"
for an unknown user) and seen.`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			if user == "" {
				return usagef("--user is required")
			}
			if n < 1 {
				return usagef("-n must be at least 1, got %d", n)
			}
			m, err := openRecommender(ckpt)
			if err != nil {
				return err
			}
			recs, out, err := predictio.Recommend(context.Background(), m, tapeml.RecommendRequest{User: user, N: n, IncludeSeen: !excludeSeen})
			if err != nil {
				return err
			}
			if recs.Fallback {
				fmt.Fprintf(e.stderr, "tapeml recommend: user %q has no training data in %s: recommending popular items\n", user, ckpt)
			}
			if asJSON {
				return printJSONLines(e, out)
			}
			printRecommendations(e, user, recs, out, excludeSeen)
			return nil
		},
	}
	fs := c.Flags()
	fs.StringVar(&ckpt, "checkpoint", "", "recommender checkpoint folder, or its run folder")
	fs.StringVar(&user, "user", "", "raw user id, as in the ratings file")
	fs.IntVarP(&n, "n", "n", 10, "how many items")
	fs.BoolVar(&excludeSeen, "exclude-seen", true, "leave out the items the user has in training (false: rank them too, marked seen)")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object per item (rank, item, title, ranked_by, ranking_score, predicted_rating, popularity, fallback, seen)")
	return c
}

// printRecommendations writes recommend's text: a header saying what
// ranks the items, then a line per item.
func printRecommendations(e env, user string, recs tapeml.Recommendations, out []predictio.Recommendation, excludeSeen bool) {
	w := e.stdout
	switch {
	case recs.Fallback:
		fmt.Fprintf(w, "# user %q is unknown to the model (no training data): the %d most popular items instead, ranked by popularity (%s)\n", user, len(out), recs.Meaning)
	default:
		left := "the items the user has in training left out"
		if !excludeSeen {
			left = "the items the user has in training included, marked seen"
		}
		fmt.Fprintf(w, "# user %q: %d items ranked by %s: %s; %s\n", user, len(out), recs.RankedBy, recs.Meaning, left)
	}
	if recs.Ratings {
		fmt.Fprintf(w, "# predicted rating: the rating the model predicts the user would give\n")
	}
	cols := []string{fmt.Sprintf("%4s", "rank"), fmt.Sprintf("%-10s", "item")}
	if !recs.Fallback {
		cols = append(cols, fmt.Sprintf("%13s", "ranking score"))
	}
	if recs.Ratings {
		cols = append(cols, fmt.Sprintf("%16s", "predicted rating"))
	}
	cols = append(cols, fmt.Sprintf("%10s", "popularity"), "title")
	fmt.Fprintln(w, strings.Join(cols, "  "))
	for _, r := range out {
		cols = []string{fmt.Sprintf("%4d", r.Rank), fmt.Sprintf("%-10s", r.Item)}
		if r.RankingScore != nil {
			cols = append(cols, fmt.Sprintf("%13.4f", *r.RankingScore))
		}
		if r.PredictedRating != nil {
			cols = append(cols, fmt.Sprintf("%16.2f", *r.PredictedRating))
		}
		title := r.Title
		if r.Seen {
			title = strings.TrimSpace(title + " (seen)")
		}
		cols = append(cols, fmt.Sprintf("%10d", r.Popularity), title)
		fmt.Fprintln(w, strings.TrimRight(strings.Join(cols, "  "), " "))
	}
}

// neighbour is one object of similar --json.
type neighbour struct {
	Rank       int     `json:"rank"`
	ID         string  `json:"id"`
	Title      string  `json:"title,omitempty"`
	Similarity float64 `json:"similarity"`
}

func similarCmd(e env) *cobra.Command {
	var ckpt, user, item string
	var n int
	var asJSON bool
	c := &cobra.Command{
		Use:   "similar --checkpoint DIR (--user ID | --item ID) [-n N] [--json]",
		Short: "list similar users or items from a recommender checkpoint",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			if (user == "") == (item == "") {
				return usagef("give exactly one of --user and --item")
			}
			if n < 1 {
				return usagef("-n must be at least 1, got %d", n)
			}
			m, err := openRecommender(ckpt)
			if err != nil {
				return err
			}
			ctx := context.Background()
			var similar []api.Neighbour
			what, of := "items", item
			if user != "" {
				what, of = "users", user
				similar, err = m.SimilarUsers(ctx, user, n)
			} else {
				similar, err = m.SimilarItems(ctx, item, n)
			}
			if err != nil {
				return err
			}
			if len(similar) == 0 {
				fmt.Fprintf(e.stderr, "tapeml similar: the %s model has no similar %s to give here\n", m.Algo(), what)
			}
			out := make([]neighbour, len(similar))
			for i, s := range similar {
				out[i] = neighbour{Rank: i + 1, ID: s.ID, Title: s.Title, Similarity: s.Score}
			}
			if asJSON {
				return printJSONLines(e, out)
			}
			fmt.Fprintf(e.stdout, "# the %d %s most similar to %q by the %s model's similarity\n", len(out), what, of, m.Algo())
			fmt.Fprintf(e.stdout, "%4s  %-10s  %10s  %s\n", "rank", "id", "similarity", "title")
			for _, s := range out {
				fmt.Fprintln(e.stdout, strings.TrimRight(fmt.Sprintf("%4d  %-10s  %10.4f  %s", s.Rank, s.ID, s.Similarity, s.Title), " "))
			}
			return nil
		},
	}
	fs := c.Flags()
	fs.StringVar(&ckpt, "checkpoint", "", "recommender checkpoint folder, or its run folder")
	fs.StringVar(&user, "user", "", "raw user id: list similar users")
	fs.StringVar(&item, "item", "", "raw item id: list similar items")
	fs.IntVarP(&n, "n", "n", 10, "how many")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object per line (rank, id, title, similarity)")
	return c
}

// openRecommender loads a recommender checkpoint.
func openRecommender(path string) (*tapeml.Model, error) {
	if path == "" {
		return nil, usagef("--checkpoint is required")
	}
	m, err := tapeml.Load(path)
	if err != nil {
		return nil, err
	}
	if !m.Signature().Takes("user") {
		return nil, fmt.Errorf("%s holds a %s model, not a recommender", path, m.Kind())
	}
	return m, nil
}

// printJSONLines prints one JSON object per element.
func printJSONLines[T any](e env, out []T) error {
	for _, r := range out {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, string(b))
	}
	return nil
}
