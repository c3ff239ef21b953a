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

// FuzzLargeBodies sends bodies made of a structure repeated up to the
// body limit — v1 instances, v2 data, nested arrays, objects, images —
// to every inference endpoint: each must get a client status, and the
// server must allocate at most a fixed ceiling for it, whatever the
// repetition (a body is measured before it is decoded, and a request
// before its work starts).
//
//	go test -run '^$' -fuzz FuzzLargeBodies -fuzztime 60s ./serve
func FuzzLargeBodies(f *testing.F) {
	// The ceiling follows from the limits, not from the repetition: a
	// decoded JSON value costs up to about 128 bytes (number text, its
	// interface, its share of the slice holding it, the flat copy and
	// typed element), a decoded pixel at most 8 bytes of RGBA64 plus the
	// model's input, an answer value its JSON; the body is read once.
	const maxBody, limit = 1 << 20, 1 << 16
	const ceiling = 160*limit + 16*limit + 200*limit + 4*maxBody
	s, err := serve.New(context.Background(), serve.Config{Models: repository(f), Poll: -1, MaxBody: maxBody, Logger: quiet(),
		Limits: serve.Limits{Elements: limit, Pixels: limit, Outputs: limit}})
	if err != nil {
		f.Fatal(err)
	}
	h := s.Handler()
	paths := []string{"/v2/models/spam/infer", "/v2/models/digits/infer", "/v2/models/movies/infer", "/v1/models/spam:predict", "/v1/models/digits:predict", "/v1/models/movies:predict", "/v2/models/spam/explain", "/v2/models/digits/explain"}
	_, imgs := pixels(1)
	img := pngBase64(f, imgs[0])
	for _, seed := range []struct{ prefix, item, suffix string }{
		{`{"instances":[{"b64":"` + img + `"},`, `0`, `]}`},
		{`{"instances":[`, `""`, `]}`},
		{`{"instances":[`, `{}`, `]}`},
		{`{"instances":[`, `[]`, `]}`},
		{`{"instances":[`, `{"user":"1","n":10000}`, `]}`},
		{`{"instances":[`, `{"b64":"` + img + `"}`, `]}`},
		{`{"instances":[`, `[[` + strings.Repeat("0,", 7) + `0]]`, `]}`},
		{`{"inputs":[{"name":"text","datatype":"BYTES","shape":[100000],"data":[`, `"a"`, `]}]}`},
		{`{"inputs":[{"name":"images","datatype":"FP32","shape":[9999,1,8,8],"data":[`, `0`, `]}]}`},
		{`{"inputs":[{"name":"image","datatype":"BYTES","shape":[5000],"data":[`, `"` + img + `"`, `]}]}`},
		{`{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":[`, `[`, `]}]}`},
		{`{"inputs":[`, `{"name":"text","datatype":"BYTES","shape":[1],"data":["a"]}`, `]}`},
		{`{"parameters":{`, `"k":{}`, `},"inputs":[]}`},
		{`{"inputs":[{"name":"user","datatype":"BYTES","shape":[1],"data":["1"]},{"name":"item","datatype":"BYTES","shape":[50000],"data":[`, `"1"`, `]}]}`},
	} {
		// Bodies just under the body limit, about as many values as the
		// limit, and small ones.
		fit := (maxBody*95/100 - len(seed.prefix) - len(seed.suffix)) / (len(seed.item) + 1)
		for i := range paths {
			f.Add(i, seed.prefix, seed.item, seed.suffix, fit)
			f.Add(i, seed.prefix, seed.item, seed.suffix, limit*95/100)
			f.Add(i, seed.prefix, seed.item, seed.suffix, 3)
		}
	}
	f.Fuzz(func(t *testing.T, i int, prefix, item, suffix string, n int) {
		path := paths[(i%len(paths)+len(paths))%len(paths)]
		if item == "" || n < 0 {
			return
		}
		n = min(n, (maxBody+64)/(len(item)+1)+1)
		body := prefix + strings.TrimSuffix(strings.Repeat(item+",", n), ",") + suffix
		code, out, alloc := post(t, h, path, body)
		switch code {
		case http.StatusOK, http.StatusBadRequest, http.StatusNotFound, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("POST %s (%d bytes: %.80q × %d): status %d: %.300s", path, len(body), item, n, code, out)
		}
		if alloc > ceiling {
			t.Fatalf("POST %s (%d bytes: %.80q × %d): %d MB allocated, ceiling %d MB (status %d)", path, len(body), item, n, alloc>>20, ceiling>>20, code)
		}
	})
}
