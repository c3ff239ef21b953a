package kinds_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/kinds"
	_ "github.com/tapeml/tapeml/models/all"
)

func TestNames(t *testing.T) {
	want := []string{"textcnn", "lstm", "fasttext", "transformer", "convnet", "recsys"}
	if got := kinds.Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
}

func TestDescribe(t *testing.T) {
	cases := []struct {
		kind, config, want string // want: the spec's name, or an error's text
	}{
		{"textcnn", `{"model":{"num_words":50,"maxlen":10}}`, "textcnn"},
		{"recsys", `{"algo":"knn"}`, "recsys (knn)"},
		{"recsys", `{"algo":"mf","mf":{"users":3,"items":4}}`, "recsys (mf)"},
		{"resnet", `{}`, `unknown model kind "resnet" (known: textcnn, lstm, fasttext, transformer, convnet, recsys)`},
		{"textcnn", ``, "no model config"},
		{"textcnn", `{"model":{"num_wrds":50}}`, `unknown field "num_wrds"`},
		{"textcnn", `{"model":{"num_words":2000000000}}`, "over the limit"},
		{"convnet", `{"model":{"channels":0}}`, "channels must be at least 1"},
		{"recsys", `{"algo":"als"}`, `recommender algo "als"`},
		{"lstm", `[1,2]`, "cannot unmarshal"},
	}
	for _, c := range cases {
		k, cfg, err := kinds.Describe(c.kind, json.RawMessage(c.config), "meta.json")
		switch {
		case err != nil && !strings.Contains(err.Error(), c.want):
			t.Errorf("%s %s: error %v, want %q", c.kind, c.config, err, c.want)
		case err != nil && !strings.HasPrefix(err.Error(), "meta.json: "):
			t.Errorf("%s %s: error %v does not name where the config was read", c.kind, c.config, err)
		case err == nil && kinds.Name(k, cfg) != c.want:
			t.Errorf("%s %s: spec %s, want %s", c.kind, c.config, kinds.Name(k, cfg), c.want)
		}
	}
}

// Open refuses preprocessing that does not fit the architecture, naming
// meta.json, before building anything.
func TestOpenChecksPreprocessing(t *testing.T) {
	good, err := checkpoint.Load("../testdata/legacy/textcnn")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kinds.Decode(good); err != nil {
		t.Fatal(err)
	}
	var pre map[string]any
	if err := json.Unmarshal(good.Meta.Preprocessing, &pre); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		change func(map[string]any)
		want   string
	}{
		{"positive index", func(p map[string]any) { p["positive"] = 7 }, "positive 7"},
		{"one class", func(p map[string]any) { p["classes"] = []string{"spam"} }, "the model has 2 classes"},
		{"maxlen", func(p map[string]any) { p["pad"].(map[string]any)["maxlen"] = 99 }, "pad maxlen 99"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var p map[string]any
			_ = json.Unmarshal(good.Meta.Preprocessing, &p)
			c.change(p)
			bad := *good
			bad.Meta.Preprocessing, _ = json.Marshal(p)
			_, err := kinds.Decode(&bad)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "meta.json") {
				t.Fatalf("error %v, want one naming meta.json and containing %q", err, c.want)
			}
		})
	}
}
