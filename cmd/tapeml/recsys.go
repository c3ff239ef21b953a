package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/api"
	"github.com/tapeml/tapeml/predictio"
)

// recommendation is one line of recommend's or similar's output.
type recommendation = predictio.Recommendation

func recommendCmd(e env) *cobra.Command {
	var ckpt, user string
	var n int
	var asJSON bool
	c := &cobra.Command{
		Use:   "recommend --checkpoint DIR --user ID [-n N] [--json]",
		Short: "recommend items to a user from a recommender checkpoint",
		Args:  noArgs,
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
			if !m.KnowsUser(user) {
				fmt.Fprintf(e.stderr, "tapeml recommend: user %q has no training ratings in %s: recommending popular items\n", user, ckpt)
			}
			out, err := predictio.Recommend(context.Background(), m, user, n)
			if err != nil {
				return err
			}
			return printRecommendations(e, out, asJSON)
		},
	}
	fs := c.Flags()
	fs.StringVar(&ckpt, "checkpoint", "", "recommender checkpoint folder, or its run folder")
	fs.StringVar(&user, "user", "", "raw user id, as in the ratings file")
	fs.IntVarP(&n, "n", "n", 10, "how many items")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object per item")
	return c
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
			if user != "" {
				similar, err = m.SimilarUsers(ctx, user, n)
			} else {
				similar, err = m.SimilarItems(ctx, item, n)
			}
			if err != nil {
				return err
			}
			out := make([]recommendation, len(similar))
			for i, s := range similar {
				out[i] = recommendation{ID: s.ID, Score: s.Score, Title: s.Title}
			}
			if len(out) == 0 {
				fmt.Fprintf(e.stderr, "tapeml similar: the %s model has no similar entries to give here\n", m.Algo())
			}
			return printRecommendations(e, out, asJSON)
		},
	}
	fs := c.Flags()
	fs.StringVar(&ckpt, "checkpoint", "", "recommender checkpoint folder, or its run folder")
	fs.StringVar(&user, "user", "", "raw user id: list similar users")
	fs.StringVar(&item, "item", "", "raw item id: list similar items")
	fs.IntVarP(&n, "n", "n", 10, "how many")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object per line")
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

func printRecommendations(e env, out []recommendation, asJSON bool) error {
	for _, r := range out {
		if asJSON {
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, string(b))
			continue
		}
		line := fmt.Sprintf("%-10s %8.4f", r.ID, r.Score)
		if r.Predicted != nil {
			line += fmt.Sprintf("  predicted %.2f", *r.Predicted)
		}
		if r.Title != "" {
			line += "  " + r.Title
		}
		fmt.Fprintln(e.stdout, line)
	}
	return nil
}
