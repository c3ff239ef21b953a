package serve_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/tapeml/tapeml/serve"
)

// post sends a JSON body to the handler in-process and returns the status,
// the body and the bytes the server allocated meanwhile.
func post(t testing.TB, h http.Handler, path, body string) (int, string, uint64) {
	t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	h.ServeHTTP(w, req)
	runtime.ReadMemStats(&after)
	return w.Code, w.Body.String(), after.TotalAlloc - before.TotalAlloc
}

func pngBase64(t testing.TB, img image.Image) string {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

// filled repeats item, comma-separated, inside prefix and suffix until the
// body is about n bytes.
func filled(prefix, item, suffix string, n int) string {
	var b strings.Builder
	b.Grow(n + len(item))
	b.WriteString(prefix)
	for b.Len()+len(item)+len(suffix) < n {
		b.WriteString(item)
		b.WriteByte(',')
	}
	s := strings.TrimSuffix(b.String(), ",")
	return s + suffix
}

// TestRequestLimits: every request's cost is bounded before its work
// starts — at the sizes where they fit a unit test — and a
// request over a limit gets 413 naming it, while the other models keep
// answering.
func TestRequestLimits(t *testing.T) {
	dir := repository(t)
	s, err := serve.New(t.Context(), serve.Config{Models: dir, Poll: -1, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	_, imgs := pixels(1)
	img := pngBase64(t, imgs[0])

	// Issue 28 §1: 8 MB of one real image and four million 0 instances
	// asked for C·H·W floats per instance before the others were checked.
	// The first instance is the image as a [1][8][8] pixel array; the
	// test "8 MB v1: PNG and 4M zeros" starts with it as a PNG.
	raw, _ := pixels(1)
	attack := filled(`{"instances":[`+nest(raw, 1, 8, 8)+`,`, "0", "]}", 8<<20-64)
	many := func(n int, item string) string {
		return "[" + strings.TrimSuffix(strings.Repeat(item+",", n), ",") + "]"
	}
	// Exactly 2,000,000 texts, as the shape says: 8 MB with ", " between.
	texts2M := `{"inputs":[{"name":"text","datatype":"BYTES","shape":[2000000],"data":[` + strings.TrimSuffix(strings.Repeat(`"", `, 2000000), ", ") + "]}]}"
	cases := []struct {
		name, path, body string
		limit            string
		maxAlloc         uint64
	}{
		{"8 MB v1: image and 4M zeros", "/v1/models/digits:predict", attack, "max-elements", 24 << 20},
		{"8 MB v1: PNG and 4M zeros", "/v1/models/digits:predict", filled(`{"instances":[{"b64":"`+img+`"},`, "0", "]}", 8<<20-64), "max-elements", 24 << 20},
		{"2M empty texts, v2", "/v2/models/spam/infer", texts2M, "max-elements", 24 << 20},
		{"2M empty texts, v1", "/v1/models/spam:predict", filled(`{"instances":[`, `""`, "]}", 8<<20-64), "max-elements", 24 << 20},
		{"instances, v1", "/v1/models/spam:predict", `{"instances":` + many(1025, `"a"`) + `}`, "max-instances", 4 << 20},
		{"instances, v2", "/v2/models/spam/infer", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1025],"data":` + many(1025, `"a"`) + `}]}`, "max-instances", 4 << 20},
		{"declared shape", "/v2/models/digits/infer", `{"inputs":[{"name":"images","datatype":"FP32","shape":[99999999,1,8,8],"data":[0]}]}`, "max-elements", 1 << 20},
		{"declared shape overflowing int64", "/v2/models/spam/infer", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[4611686018427387904],"data":[]}]}`, "max-elements", 1 << 20},
		{"text bytes", "/v2/models/spam/infer", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["` + strings.Repeat("spam ", 1<<20) + `"]}]}`, "max-text-bytes", 32 << 20},
		{"recommendations, v1: n × instances", "/v1/models/movies:predict", `{"instances":` + many(100, `{"user":"1","n":10000}`) + `}`, "max-outputs", 4 << 20},
		// §3: 20,000 of them (540 KB) made a 346 MB answer and +2.5 GB.
		{"20,000 recommendation instances, v1", "/v1/models/movies:predict", `{"instances":` + many(20000, `{"user":"1","n":10000}`) + `}`, "max-instances", 16 << 20},
		{"explain passes", "/v2/models/spam/explain", explainBody([]string{"a", "b", "c"}, `{"steps":1000}`), "max-explain-passes", 4 << 20},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body, alloc := post(t, h, c.path, c.body)
			if code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "("+c.limit+")") {
				t.Errorf("status %d, want 413 naming %s: %.300s", code, c.limit, body)
			}
			if alloc > c.maxAlloc {
				t.Errorf("a %d-byte body allocated %d MB, want at most %d MB", len(c.body), alloc>>20, c.maxAlloc>>20)
			}
			// The other models are unaffected.
			if code, body, _ := post(t, h, "/v2/models/spam/infer", textInfer("win free cash now")); code != 200 {
				t.Errorf("afterwards: %d %s", code, body)
			}
		})
	}
	t.Run("within the limits", func(t *testing.T) {
		for _, c := range []struct{ path, body string }{
			{"/v1/models/spam:predict", `{"instances":` + many(1024, `"a"`) + `}`},
			{"/v1/models/movies:predict", `{"instances":` + many(50, `{"user":"1","n":10000}`) + `}`},
			{"/v2/models/spam/explain", explainBody([]string{"win free cash", "meeting tomorrow"}, `{"steps":1000}`)},
		} {
			if code, body, _ := post(t, h, c.path, c.body); code != 200 {
				t.Errorf("%s: %d %.300s", c.path, code, body)
			}
		}
	})
}

// TestPixelLimit: image files are measured from their headers, decoded
// pixels and resize buffers counted, before any is decoded.
func TestPixelLimit(t *testing.T) {
	dir := repository(t)
	// The test model reads 8×8 images: a 16×16 image costs 256 + 64.
	s, err := serve.New(t.Context(), serve.Config{Models: dir, Poll: -1, Logger: quiet(), Limits: serve.Limits{Pixels: 700}})
	if err != nil {
		t.Fatal(err)
	}
	big := pngBase64(t, image.NewGray(image.Rect(0, 0, 16, 16)))
	body := func(n int) string {
		data, _ := json.Marshal(slicesRepeat(big, n))
		return fmt.Sprintf(`{"inputs":[{"name":"image","datatype":"BYTES","shape":[%d],"data":%s}]}`, n, data)
	}
	if code, b, _ := post(t, s.Handler(), "/v2/models/digits/infer", body(2)); code != 200 {
		t.Errorf("2 images of 320 pixels each under a limit of 700: %d %s", code, b)
	}
	if code, b, _ := post(t, s.Handler(), "/v2/models/digits/infer", body(3)); code != 413 || !strings.Contains(b, "960 decoded image pixels") || !strings.Contains(b, "(max-pixels)") {
		t.Errorf("3 images: %d %s, want 413 counting 960 pixels", code, b)
	}
	if code, b, _ := post(t, s.Handler(), "/v1/models/digits:predict", `{"instances":[{"b64":"`+big+`"},{"b64":"`+big+`"},{"b64":"`+big+`"}]}`); code != 413 || !strings.Contains(b, "(max-pixels)") {
		t.Errorf("3 images over v1: %d %s", code, b)
	}
}

func slicesRepeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// TestV2DataNesting: data is flat or nested exactly as its shape, as v1's
// instances are checked.
func TestV2DataNesting(t *testing.T) {
	s, err := serve.New(t.Context(), serve.Config{Models: repository(t), Poll: -1, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := pixels(2)
	flat, _ := json.Marshal(raw)
	for _, c := range []struct {
		data string
		code int
	}{
		{string(flat), 200},
		{nest(raw, 2, 1, 8, 8), 200},
		{nest(raw, 2, 8, 8), 400}, // a level short
		{nest(raw, 4, 1, 4, 8), 400},
		{"[" + nest(raw[:64], 1, 8, 8) + "," + string(mustJSON(raw[64:])) + "]", 400},
		{`7`, 400},
	} {
		body := fmt.Sprintf(`{"inputs":[{"name":"images","datatype":"FP32","shape":[2,1,8,8],"data":%s}]}`, c.data)
		if code, b, _ := post(t, s.Handler(), "/v2/models/digits/infer", body); code != c.code {
			t.Errorf("data %.60s…: %d, want %d: %s", c.data, code, c.code, b)
		}
	}
	// v1 and v2 refuse a recommender request giving both n and item.
	for _, c := range []struct{ path, body string }{
		{"/v1/models/movies:predict", `{"instances":[{"user":"3","n":2,"item":"9"}]}`},
		{"/v2/models/movies/infer", `{"inputs":[{"name":"user","datatype":"BYTES","shape":[1],"data":["3"]},{"name":"n","datatype":"INT32","shape":[1],"data":[2]},{"name":"item","datatype":"BYTES","shape":[1],"data":["9"]}]}`},
	} {
		if code, b, _ := post(t, s.Handler(), c.path, c.body); code != 400 {
			t.Errorf("%s with n and item: %d %s", c.path, code, b)
		}
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// nest writes x as nested JSON arrays of the given dimensions.
func nest(x []float32, dims ...int) string {
	if len(dims) == 1 {
		return string(mustJSON(x[:dims[0]]))
	}
	n := len(x) / dims[0]
	parts := make([]string, dims[0])
	for i := range parts {
		parts[i] = nest(x[i*n:(i+1)*n], dims[1:]...)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// quiet is a logger for tests that expect errors.
func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
