package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func TestRecsysEndToEnd(t *testing.T) {
	for _, algo := range []string{"mf", "knn", "svd", "ials", "bpr"} {
		t.Run(algo, func(t *testing.T) {
			implicit := algo == "ials" || algo == "bpr"
			run := filepath.Join(t.TempDir(), "run")
			args := []string{"train", "recsys", "--algo", algo, "--out", run, "--k", "5"}
			if algo == "bpr" {
				args = append(args, "--epochs", "5")
			}
			status, out, stderr := runCLI(t, "", args...)
			if status != 0 || !strings.Contains(out, "ndcg@5") {
				t.Fatalf("train: status %d\n%s\n%s", status, out, stderr)
			}
			if implicit && (!strings.Contains(out, "interactions (the ratings of at least 4)") || !strings.Contains(out, "item-kNN baseline")) {
				t.Errorf("train %s: no interactions or item-kNN baseline:\n%s", algo, out)
			}
			status, out, stderr = runCLI(t, "", "eval", "--checkpoint", run, "--json")
			if status != 0 {
				t.Fatalf("eval: %s", stderr)
			}
			var ev map[string]any
			if err := json.Unmarshal([]byte(out), &ev); err != nil {
				t.Fatal(err)
			}
			switch {
			case ev["ndcg@5"] == nil || ev["split"] != "test": // the run's k
				t.Fatalf("eval: %s", out)
			case implicit && ev["rmse"] != nil:
				t.Fatalf("eval of a model of interactions gives an rmse: %s", out)
			case !implicit && (ev["n"].(float64) != 10000 || ev["rmse"].(float64) > 0.9 || ev["rows"].(float64) != 50000):
				t.Fatalf("eval: %s", out)
			}
			status, out, _ = runCLI(t, "", "eval", "--checkpoint", run, "--k", "3")
			if status != 0 || !strings.Contains(out, "ndcg@3") {
				t.Errorf("eval --k 3: %s", out)
			}
			if algo == "knn" {
				// Ratings that are not the run's are scored all of them
				// (issue 28, point 9).
				var b strings.Builder
				b.WriteString("userId,movieId,rating,timestamp\n")
				for i := range 30 {
					fmt.Fprintf(&b, "%d,%d,%d,%d\n", 1+i%10, 1+i, 1+i%5, 100+i)
				}
				other := filepath.Join(t.TempDir(), "other.csv")
				write(t, other, []byte(b.String()))
				if s, n, rows := evalScored(t, "--checkpoint", run, "--data", other); s != "all" || n != 30 || rows != 30 {
					t.Fatalf("eval --data %s: split %q, n %d of %d rows; want all 30 of 30", other, s, n, rows)
				}
			}

			status, out, stderr = runCLI(t, "", "recommend", "--checkpoint", run, "--user", "1", "-n", "5", "--json")
			if status != 0 || strings.Count(out, "\n") != 5 || !strings.Contains(out, `"title":"Synthetic movie`) {
				t.Fatalf("recommend: status %d\n%s\n%s", status, out, stderr)
			}
			var first struct {
				Rank            int      `json:"rank"`
				RankedBy        string   `json:"ranked_by"`
				RankingScore    *float64 `json:"ranking_score"`
				PredictedRating *float64 `json:"predicted_rating"`
				Popularity      int      `json:"popularity"`
				Fallback        string   `json:"fallback"`
			}
			if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &first); err != nil {
				t.Fatal(err)
			}
			wantBy := "expected relevance"
			if implicit {
				wantBy = "preference"
			}
			if first.Rank != 1 || first.RankedBy != wantBy || first.RankingScore == nil || (first.PredictedRating == nil) == !implicit || first.Popularity < 1 || first.Fallback != "" {
				t.Errorf("recommend --json: %s", out)
			}

			status, out, stderr = runCLI(t, "", "recommend", "--checkpoint", run, "--user", "1", "-n", "5")
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if status != 0 || !strings.HasPrefix(lines[0], `# user "1": 5 items ranked by `+wantBy+`: `) || !strings.Contains(out, "ranking score") || strings.Contains(out, "predicted rating") == implicit {
				t.Errorf("recommend's header: status %d\n%s\n%s", status, out, stderr)
			}
			status, out, _ = runCLI(t, "", "recommend", "--checkpoint", run, "--user", "1", "-n", "400", "--exclude-seen=false")
			if status != 0 || !strings.Contains(out, "(seen)") || !strings.Contains(out, "included, marked seen") {
				t.Errorf("recommend --exclude-seen=false lists no seen item:\n%.600s", out)
			}

			status, out, stderr = runCLI(t, "", "recommend", "--checkpoint", run, "--user", "no-such-user", "-n", "3")
			lines = strings.Split(strings.TrimSpace(out), "\n")
			if status != 0 || len(lines) < 5 || !strings.Contains(lines[0], "unknown to the model") || !strings.Contains(lines[0], "ranked by popularity") ||
				strings.Contains(out, "ranking score") || !strings.Contains(stderr, "popular") {
				t.Fatalf("recommend for an unknown user: status %d\n%s\n%s", status, out, stderr)
			}
			status, out, _ = runCLI(t, "", "recommend", "--checkpoint", run, "--user", "no-such-user", "-n", "3", "--json")
			if status != 0 || strings.Count(out, `"fallback":"popularity"`) != 3 || strings.Contains(out, "ranking_score") || !strings.Contains(out, `"ranked_by":"popularity"`) {
				t.Errorf("recommend --json for an unknown user:\n%s", out)
			}
			if algo != "mf" {
				status, out, stderr = runCLI(t, "", "similar", "--checkpoint", run, "--item", "5", "-n", "3", "--json")
				if status != 0 || strings.Count(out, "\n") != 3 || !strings.Contains(out, `"similarity":`) {
					t.Fatalf("similar: status %d\n%s\n%s", status, out, stderr)
				}
			}
			if algo != "svd" {
				status, out, stderr = runCLI(t, "", "explain", "--checkpoint", run, "--user", "1", "--item", "5")
				if status != 0 || !strings.Contains(out, "user 1, item 5") || !strings.Contains(out, "item ") {
					t.Errorf("explain: status %d\n%s\n%s", status, out, stderr)
				}
			}
		})
	}
}

func TestRecsysBadInput(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"missing.csv": "userId,movieId,rating,timestamp\n1,2,4.0,100\n3,4\n",
		"nonnum.csv":  "userId,movieId,rating,timestamp\n1,2,four,100\n",
		"scale.csv":   "userId,movieId,rating,timestamp\n1,2,7,100\n",
		"empty.csv":   "",
	}
	for name, body := range files {
		write(t, filepath.Join(dir, name), []byte(body))
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"train", "recsys", "--data", filepath.Join(dir, "missing.csv")}, "missing.csv:3"},
		{[]string{"train", "recsys", "--data", filepath.Join(dir, "nonnum.csv")}, "nonnum.csv:2"},
		{[]string{"train", "recsys", "--data", filepath.Join(dir, "scale.csv")}, "scale.csv:2"},
		{[]string{"train", "recsys", "--data", filepath.Join(dir, "empty.csv")}, "empty.csv"},
		{[]string{"train", "recsys", "--data", filepath.Join(dir, "nope.csv")}, "nope.csv"},
		{[]string{"train", "recsys", "--algo", "als"}, `"als"`},
		{[]string{"recommend", "--checkpoint", dir}, "--user is required"},
		{[]string{"similar", "--checkpoint", dir, "--user", "1", "--item", "2"}, "exactly one"},
	}
	for _, c := range cases {
		status, _, stderr := runCLI(t, "", c.args...)
		if status == 0 || strings.Contains(stderr, "internal error") || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: status %d, stderr %q (want one line mentioning %q)", c.args, status, stderr, c.want)
		}
	}
}
