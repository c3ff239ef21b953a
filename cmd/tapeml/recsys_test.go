package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func TestRecsysEndToEnd(t *testing.T) {
	for _, algo := range []string{"mf", "knn", "svd"} {
		t.Run(algo, func(t *testing.T) {
			run := filepath.Join(t.TempDir(), "run")
			status, out, stderr := runCLI(t, "", "train", "recsys", "--algo", algo, "--out", run)
			if status != 0 || !strings.Contains(out, "ndcg@10") {
				t.Fatalf("train: status %d\n%s\n%s", status, out, stderr)
			}
			status, out, stderr = runCLI(t, "", "eval", "--checkpoint", run, "--json")
			if status != 0 {
				t.Fatalf("eval: %s", stderr)
			}
			var ev map[string]any
			if err := json.Unmarshal([]byte(out), &ev); err != nil {
				t.Fatal(err)
			}
			if ev["n"].(float64) != 10000 || ev["rmse"].(float64) > 0.9 || ev["ndcg@10"] == nil || ev["split"] != "test" || ev["rows"].(float64) != 50000 {
				t.Fatalf("eval: %s", out)
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
			status, out, stderr = runCLI(t, "", "recommend", "--checkpoint", run, "--user", "no-such-user", "-n", "3")
			if status != 0 || strings.Count(out, "\n") != 3 || !strings.Contains(stderr, "popular") {
				t.Fatalf("recommend for an unknown user: status %d\n%s\n%s", status, out, stderr)
			}
			if algo != "mf" {
				status, out, stderr = runCLI(t, "", "similar", "--checkpoint", run, "--item", "5", "-n", "3")
				if status != 0 || strings.Count(out, "\n") != 3 {
					t.Fatalf("similar: status %d\n%s\n%s", status, out, stderr)
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
