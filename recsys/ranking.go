package recsys

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/tapeml/tapeml/metrics"
)

// DefaultRelevance is the rating from which a held-out item counts as
// relevant: 4 stars, "liked".
const DefaultRelevance = 4.0

// RankScores are one user's top-k metrics.
type RankScores struct {
	Precision float64 // hits / k
	Recall    float64 // hits / |relevant|
	NDCG      float64 // DCG / ideal DCG, binary gains, log2(rank+1) discount
	AP        float64 // Σ over hits of precision at the hit's rank / min(|relevant|, k)
	Hit       float64 // 1 if any relevant item is in the top k
}

// Rank scores the first k of recommended (best first) against the set of
// relevant items. Precision divides by k even when fewer than k items were
// recommended. A user without relevant items scores zero everywhere.
func Rank(recommended []int, relevant map[int]bool, k int) RankScores {
	var s RankScores
	if k <= 0 || len(relevant) == 0 {
		return s
	}
	hits := 0
	var dcg, precisionSum float64
	for r, item := range recommended[:min(k, len(recommended))] {
		if !relevant[item] {
			continue
		}
		hits++
		dcg += 1 / math.Log2(float64(r)+2)
		precisionSum += float64(hits) / float64(r+1)
	}
	var ideal float64
	for r := 0; r < min(len(relevant), k); r++ {
		ideal += 1 / math.Log2(float64(r)+2)
	}
	s.Precision = float64(hits) / float64(k)
	s.Recall = float64(hits) / float64(len(relevant))
	s.NDCG = dcg / ideal
	s.AP = precisionSum / float64(min(len(relevant), k))
	if hits > 0 {
		s.Hit = 1
	}
	return s
}

// EvalConfig says how Evaluate ranks. A zero field takes its default.
type EvalConfig struct {
	K         int     `json:"k"`         // list length; default 10
	Relevance float64 `json:"relevance"` // a test rating ≥ Relevance is relevant; default 4
	// RankUsers bounds the users ranked: when more test users have a
	// relevant item, a seeded random sample of RankUsers of them is ranked
	// (RMSE and MAE still cover every test rating). Ranking costs a pass
	// over the catalogue per user — at ml-25m's size 160,000 × 61,000
	// scores — so the CLI ranks DefaultRankUsers; default 0: all.
	RankUsers int `json:"rank_users"`
	// Seed of that sample; default 0.
	Seed uint64 `json:"seed"`
	// Implicit evaluates a model of interactions: every held-out
	// interaction is relevant (Relevance is not used) and there is no
	// rating to predict, so the report has ranking metrics only.
	Implicit bool `json:"implicit,omitempty"`
}

// DefaultRankUsers is the CLI's EvalConfig.RankUsers: enough for the
// ranking metrics' sampling error (about 0.005 on NDCG@10) to sit below
// the differences between algorithms.
const DefaultRankUsers = 10000

// Report is a recommender's quality on a test split.
type Report struct {
	N int `json:"n"` // test ratings (or interactions)
	// Implicit: a model of interactions, ranked only (RMSE and MAE are 0
	// and not reported).
	Implicit bool    `json:"implicit,omitempty"`
	RMSE     float64 `json:"rmse"` // of the clipped predictions
	MAE      float64 `json:"mae"`
	// Ranking, averaged over the test users with at least one relevant
	// test rating (Users of them), each given a top-K list of items they
	// did not rate in training.
	K     int `json:"k"`
	Users int `json:"users"`
	// Eligible is the number of test users with a relevant item; Users is
	// less when EvalConfig.RankUsers sampled them.
	Eligible  int     `json:"eligible_users"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	NDCG      float64 `json:"ndcg"`
	MAP       float64 `json:"map"`
	HitRate   float64 `json:"hit_rate"`
	// Coverage is the share of the training catalogue (items with a
	// training rating) that appears in at least one of those lists.
	Coverage float64 `json:"coverage"`
}

// Named lists the report's figures under the names the CLI prints
// ("rmse", "precision@10", …).
func (r Report) Named() []metrics.Named {
	k := fmt.Sprintf("@%d", r.K)
	var out []metrics.Named
	if !r.Implicit {
		out = append(out, metrics.Named{Name: "rmse", Value: r.RMSE}, metrics.Named{Name: "mae", Value: r.MAE})
	}
	return append(out, []metrics.Named{
		{Name: "n", Value: float64(r.N)},
		{Name: "precision" + k, Value: r.Precision}, {Name: "recall" + k, Value: r.Recall},
		{Name: "ndcg" + k, Value: r.NDCG}, {Name: "map" + k, Value: r.MAP},
		{Name: "hit_rate" + k, Value: r.HitRate}, {Name: "coverage" + k, Value: r.Coverage},
		{Name: "users", Value: float64(r.Users)},
	}...)
}

// Evaluate predicts every test rating (RMSE, MAE; not when Implicit) and
// ranks for every test user with a relevant test item (Precision, Recall,
// NDCG, MAP and HitRate at K, catalogue coverage): each user's list leaves
// out the items the user has in train. The users are ranked in parallel
// on all cores, a top-K selection each. train must be the matrix rec was
// fitted on. rec is called from several goroutines.
func Evaluate(rec Recommender, train *Matrix, test []Rating, cfg EvalConfig) (Report, error) {
	if cfg.K == 0 {
		cfg.K = 10
	}
	if cfg.Relevance == 0 {
		cfg.Relevance = DefaultRelevance
	}
	if cfg.K < 0 || cfg.RankUsers < 0 {
		return Report{}, fmt.Errorf("evaluate: k %d and rank_users %d must not be negative", cfg.K, cfg.RankUsers)
	}
	if len(test) == 0 {
		return Report{}, fmt.Errorf("evaluate: the test set is empty")
	}
	rep := Report{N: len(test), K: cfg.K, Implicit: cfg.Implicit}
	var preds, targets []float32
	if !cfg.Implicit {
		preds, targets = make([]float32, len(test)), make([]float32, len(test))
	}
	relevant := map[int]map[int]bool{}
	var users []int
	for j, r := range test {
		if !cfg.Implicit {
			targets[j] = r.Value
		}
		if cfg.Implicit || float64(r.Value) >= cfg.Relevance {
			u := int(r.User)
			if relevant[u] == nil {
				relevant[u] = map[int]bool{}
				users = append(users, u)
			}
			relevant[u][int(r.Item)] = true
		}
	}
	rep.Eligible = len(users)
	if cfg.RankUsers > 0 && len(users) > cfg.RankUsers {
		rng := rand.New(rand.NewPCG(cfg.Seed, 0x7a9c))
		rng.Shuffle(len(users), func(a, b int) { users[a], users[b] = users[b], users[a] })
		users = users[:cfg.RankUsers]
	}
	lists := make([][]Scored, len(users))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for j := w; j < len(preds); j += workers {
				preds[j] = float32(rec.Predict(int(test[j].User), int(test[j].Item)))
			}
			for j := w; j < len(users); j += workers {
				lists[j] = rec.Recommend(users[j], cfg.K, ExcludeSeen)
			}
		}(w)
	}
	wg.Wait()
	if !cfg.Implicit {
		var err error
		if rep.RMSE, err = metrics.RMSE(preds, targets); err != nil {
			return rep, err
		}
		if rep.MAE, err = metrics.MAE(preds, targets); err != nil {
			return rep, err
		}
	}
	shown := map[int]bool{}
	for j, u := range users {
		ids := make([]int, len(lists[j]))
		for t, s := range lists[j] {
			ids[t] = s.Index
			shown[s.Index] = true
		}
		s := Rank(ids, relevant[u], cfg.K)
		rep.Precision += s.Precision
		rep.Recall += s.Recall
		rep.NDCG += s.NDCG
		rep.MAP += s.AP
		rep.HitRate += s.Hit
	}
	rep.Users = len(users)
	if n := float64(len(users)); n > 0 {
		rep.Precision /= n
		rep.Recall /= n
		rep.NDCG /= n
		rep.MAP /= n
		rep.HitRate /= n
	}
	catalogue := 0
	for i := 0; i < train.NumItems; i++ {
		if train.ItemCount(i) > 0 {
			catalogue++
		}
	}
	if catalogue > 0 {
		rep.Coverage = float64(len(shown)) / float64(catalogue)
	}
	return rep, nil
}

func (r Report) String() string {
	users := fmt.Sprintf("%d users", r.Users)
	if r.Users < r.Eligible {
		users = fmt.Sprintf("a sample of %d of %d users", r.Users, r.Eligible)
	}
	rank := fmt.Sprintf("n %d  precision@%d %.4f  recall@%d %.4f  ndcg@%d %.4f  map@%d %.4f  hit_rate@%d %.4f  coverage %.4f  (%s)",
		r.N, r.K, r.Precision, r.K, r.Recall, r.K, r.NDCG, r.K, r.MAP, r.K, r.HitRate, r.Coverage, users)
	if r.Implicit {
		return rank
	}
	return fmt.Sprintf("rmse %.4f  mae %.4f  %s", r.RMSE, r.MAE, rank)
}
