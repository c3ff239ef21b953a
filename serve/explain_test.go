package serve_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tapeml/tapeml/serve"
)

type explainAnswer struct {
	ModelName    string `json:"model_name"`
	ModelVersion string `json:"model_version"`
	Explanations []struct {
		Explanation struct {
			Text   string `json:"text"`
			Tokens []struct {
				Token string  `json:"token"`
				Score float64 `json:"score"`
			} `json:"tokens"`
			Scores     []float64       `json:"scores"`
			Height     int             `json:"height"`
			Width      int             `json:"width"`
			Delta      *float64        `json:"delta"`
			Prediction json.RawMessage `json:"prediction"`
		} `json:"explanation"`
		Converged *bool  `json:"converged"`
		Heatmap   []byte `json:"heatmap"` // base64 PNG, image models only
	} `json:"explanations"`
}

func explainBody(texts []string, params string) string {
	b, _ := json.Marshal(texts)
	return fmt.Sprintf(`{"inputs":[{"name":"text","datatype":"BYTES","shape":[%d],"data":%s}],"parameters":%s}`, len(texts), b, params)
}

func TestExplain(t *testing.T) {
	dir := repository(t)
	ts := start(t, serve.Config{Models: dir, MaxBatch: 8, MaxDelay: 5 * time.Millisecond, Poll: -1, MaxBody: 64 << 10})
	raw, _ := pixels(2)
	rawJSON, _ := json.Marshal(raw)
	imageBody := fmt.Sprintf(`{"inputs":[{"name":"images","datatype":"FP32","shape":[2,1,8,8],"data":%s}],"parameters":{"steps":16}}`, rawJSON)
	many := make([]string, 17)
	for i := range many {
		many[i] = "win cash"
	}
	for _, c := range []struct {
		name, path, body string
		code             int
		errHas           string
		n                int
	}{
		{"text ig", "/v2/models/spam/explain", explainBody([]string{"win free cash now", "meeting tomorrow with the team"}, `{"steps":32}`), 200, "", 2},
		{"text version", "/v2/models/spam/versions/2/explain", explainBody([]string{"win free cash now"}, `{"method":"saliency"}`), 200, "", 1},
		{"image pixels", "/v2/models/digits/explain", imageBody, 200, "", 2},
		{"bad method", "/v2/models/spam/explain", explainBody([]string{"win"}, `{"method":"magic"}`), 400, "method", 0},
		{"bad target", "/v2/models/spam/explain", explainBody([]string{"win"}, `{"target":"nosuchclass"}`), 400, "nosuchclass", 0},
		{"bad steps", "/v2/models/spam/explain", explainBody([]string{"win"}, `{"steps":5000}`), 400, "steps", 0},
		{"steps type", "/v2/models/spam/explain", explainBody([]string{"win"}, `{"steps":"x"}`), 400, "steps", 0},
		{"unknown parameter", "/v2/models/spam/explain", explainBody([]string{"win"}, `{"colour":"red"}`), 400, "colour", 0},
		{"too many texts", "/v2/models/spam/explain", explainBody(many, `{}`), 400, "at most 16", 0},
		{"recommender", "/v2/models/movies/explain", `{"inputs":[{"name":"user","datatype":"BYTES","shape":[1],"data":["1"]}]}`, 400, "text or image model", 0},
		{"unknown model", "/v2/models/nosuch/explain", explainBody([]string{"win"}, `{}`), 404, "", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, body := do(t, http.MethodPost, ts.url+c.path, c.body)
			if code != c.code {
				t.Fatalf("status %d, want %d: %s", code, c.code, body)
			}
			if c.code != 200 {
				var e struct{ Error string }
				if err := json.Unmarshal(body, &e); err != nil || e.Error == "" || !strings.Contains(e.Error, c.errHas) {
					t.Fatalf("error body %s, want one naming %q", body, c.errHas)
				}
				return
			}
			var a explainAnswer
			if err := json.Unmarshal(body, &a); err != nil {
				t.Fatal(err)
			}
			if len(a.Explanations) != c.n {
				t.Fatalf("%d explanations, want %d", len(a.Explanations), c.n)
			}
			for _, e := range a.Explanations {
				x := e.Explanation
				if len(x.Prediction) == 0 || string(x.Prediction) == "null" {
					t.Errorf("no prediction: %s", body)
				}
				if x.Height > 0 {
					if len(x.Scores) != x.Height*x.Width {
						t.Errorf("%d scores for %d×%d pixels", len(x.Scores), x.Height, x.Width)
					}
					if heat, err := png.DecodeConfig(bytes.NewReader(e.Heatmap)); err != nil || heat.Width != 2*x.Width || heat.Height != x.Height {
						t.Errorf("heat map %+v (%v); want a %d×%d PNG", heat, err, 2*x.Width, x.Height)
					}
				} else {
					words := strings.Fields(x.Text)
					if len(x.Tokens) == 0 || len(x.Tokens) > len(words) {
						t.Errorf("%d tokens for %q", len(x.Tokens), x.Text)
					}
					for _, tok := range x.Tokens {
						if !strings.Contains(strings.ToLower(x.Text), strings.ToLower(tok.Token)) {
							t.Errorf("token %q not in %q", tok.Token, x.Text)
						}
					}
				}
				if x.Delta == nil {
					t.Errorf("no delta: %s", body)
				}
			}
		})
	}
}

// TestExplainConcurrent explains from many goroutines at once (run with -race).
func TestExplainConcurrent(t *testing.T) {
	dir := repository(t)
	ts := start(t, serve.Config{Models: dir, MaxBatch: 8, MaxDelay: 5 * time.Millisecond, Poll: -1, MaxBody: 64 << 10})
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, body := do(t, http.MethodPost, ts.url+"/v2/models/spam/explain", explainBody([]string{fmt.Sprintf("win free cash %d now", g)}, `{"steps":16}`))
			if code != 200 {
				t.Errorf("status %d: %s", code, body)
			}
		}()
	}
	wg.Wait()
}
