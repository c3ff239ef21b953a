package serve_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tapeml/tapeml/serve"
)

// FuzzInfer sends arbitrary bodies to every inference endpoint: each must
// answer 200 or a JSON error with a client status, never panic or 500.
//
//	go test -run '^$' -fuzz FuzzInfer -fuzztime 30s ./serve
func FuzzInfer(f *testing.F) {
	s, err := serve.New(context.Background(), serve.Config{Models: repository(f), Poll: -1, MaxBody: 1 << 16})
	if err != nil {
		f.Fatal(err)
	}
	h := s.Handler()
	paths := []string{"/v2/models/spam/infer", "/v2/models/digits/infer", "/v2/models/movies/infer", "/v1/models/spam:predict", "/v1/models/digits:predict", "/v1/models/movies:predict"}
	for _, seed := range []string{
		textInfer("a", "b"),
		`{"inputs":[{"name":"images","datatype":"FP32","shape":[1,1,8,8],"data":[[[` + strings.Repeat("1,", 63) + `1]]]}]}`,
		`{"inputs":[{"name":"image","datatype":"BYTES","shape":[1],"data":[{"b64":"iVBORw0KGgo="}]}]}`,
		`{"inputs":[{"name":"user","datatype":"BYTES","shape":[1],"data":["3"]},{"name":"n","datatype":"INT32","shape":[1],"data":[3]}]}`,
		`{"inputs":[{"name":"user","datatype":"BYTES","shape":[2],"data":["3","4"]},{"name":"item","datatype":"BYTES","shape":[2],"data":["1","2"]}]}`,
		`{"instances":["x",{"text":"y"}]}`, `{"instances":[{"b64":""}]}`, `{"instances":[{"user":"3","n":2},{"user":"3","item":"9"}]}`,
		`{"inputs":[{"name":"text","datatype":"BYTES","shape":[-1],"data":[]}]}`, `{"inputs":[{"name":"text","shape":[9999999999,9999999999]}]}`,
		`null`, `[]`, `{"inputs":null}`, `{"instances":[[[[1]]]]}`,
	} {
		for i := range paths {
			f.Add(i, seed)
		}
	}
	f.Fuzz(func(t *testing.T, i int, body string) {
		path := paths[(i%len(paths)+len(paths))%len(paths)]
		w := httptest.NewRecorder()
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(w, req)
		switch w.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusNotFound, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("POST %s %q: status %d: %s", path, body, w.Code, w.Body)
		}
		if !strings.HasPrefix(w.Body.String(), "{") {
			t.Fatalf("POST %s %q: body %s", path, body, w.Body)
		}
	})
}
