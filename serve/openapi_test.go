package serve_test

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/tapeml/tapeml/serve"
)

// TestOpenAPI: GET /openapi.json is a valid OpenAPI 3 document, and it
// describes every route the server has — and only those.
func TestOpenAPI(t *testing.T) {
	ts := start(t, serve.Config{Models: repository(t), Poll: -1, Logger: quiet()})
	resp, err := http.Get(ts.url + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi.json: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	doc, err := openapi3.NewLoader().LoadFromIoReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("not valid OpenAPI 3: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	// Each documented operation exists: a request with made-up path
	// values reaches a handler (not the catch-all "no such endpoint").
	param := regexp.MustCompile(`\{[a-z]+\}`)
	var ops []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			ops = append(ops, method+" "+path)
			url := param.ReplaceAllStringFunc(path, func(p string) string {
				if p == "{version}" {
					return "1"
				}
				return "spam"
			})
			code, body := do(t, method, ts.url+url, map[bool]string{true: textInfer("a"), false: ""}[method == "POST"])
			if code == 404 && strings.Contains(string(body), "no such endpoint") || code == 405 {
				t.Errorf("%s %s (documented): %d %s", method, url, code, body)
			}
		}
	}
	slices.Sort(ops)
	want := []string{
		"GET /", "GET /metrics", "GET /openapi.json", "GET /v1/models/{name}", "GET /v1/models/{name}/labels/{label}", "GET /v1/models/{name}/labels/{label}/metadata", "GET /v1/models/{name}/metadata",
		"GET /v1/models/{name}/versions/{version}", "GET /v1/models/{name}/versions/{version}/metadata",
		"GET /v2", "GET /v2/health/live", "GET /v2/health/ready", "GET /v2/models/{name}", "GET /v2/models/{name}/ready", "GET /v2/models/{name}/versions/{version}", "GET /v2/models/{name}/versions/{version}/ready",
		"POST /v1/models/{name}/labels/{label}:predict", "POST /v1/models/{name}/versions/{version}:predict", "POST /v1/models/{name}:predict",
		"POST /v2/models/{name}/explain", "POST /v2/models/{name}/infer", "POST /v2/models/{name}/versions/{version}/explain", "POST /v2/models/{name}/versions/{version}/infer", "POST /v2/repository/index",
	}
	if !slices.Equal(ops, want) {
		t.Errorf("documented operations:\n%q\nthe server's routes:\n%q", ops, want)
	}
}
