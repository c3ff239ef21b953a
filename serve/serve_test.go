package serve_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/serve"
)

const legacy = "../testdata/legacy"

// copyDir copies a checkpoint folder (flat files) or one file into dst.
func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	files := []string{src}
	if fi.IsDir() {
		entries, err := os.ReadDir(src)
		if err != nil {
			t.Fatal(err)
		}
		files = files[:0]
		for _, e := range entries {
			files = append(files, filepath.Join(src, e.Name()))
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// repository lays out the test repository: a textcnn in two versions
// (checkpoint folder and exported .safetensors) with labels, a convnet,
// the MF recommender, and a model whose only version is broken.
func repository(t testing.TB) string {
	dir := t.TempDir()
	copyDir(t, filepath.Join(legacy, "textcnn"), filepath.Join(dir, "spam", "1"))
	copyDir(t, filepath.Join(legacy, "textcnn.safetensors"), filepath.Join(dir, "spam", "2"))
	writeFile(t, filepath.Join(dir, "spam", "config.json"), `{"version_policy": {"all": {}}, "labels": {"stable": 1, "canary": 2}}`)
	copyDir(t, convnetCheckpoint(t, 1), filepath.Join(dir, "digits", "1"))
	copyDir(t, filepath.Join(legacy, "mf"), filepath.Join(dir, "movies", "1"))
	writeFile(t, filepath.Join(dir, "broken", "1", "meta.json"), `{"format_version": 1, "model_kind": "textcnn"`)
	writeFile(t, filepath.Join(dir, "notes.txt"), "files beside models are ignored")
	return dir
}

type testServer struct {
	*serve.Server
	url      string // http:// or, with TLS, https://
	grpcAddr string
	cancel   context.CancelFunc
	done     chan error
}

// logTo writes the server's logs to the test's log.
type logTo struct{ t testing.TB }

func (w logTo) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func start(t testing.TB, cfg serve.Config) *testServer {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(logTo{t}, nil))
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := serve.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	scheme := "http://"
	if cfg.TLSCert != "" {
		scheme = "https://"
	}
	ts := &testServer{Server: s, url: scheme + ln.Addr().String(), grpcAddr: gln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { ts.done <- s.ServeGRPC(ctx, ln, gln) }()
	t.Cleanup(func() { ts.stop(t) })
	return ts
}

func (ts *testServer) stop(t testing.TB) {
	if ts.cancel == nil {
		return
	}
	ts.cancel()
	ts.cancel = nil
	if err := <-ts.done; err != nil {
		t.Errorf("Serve returned %v after shutdown", err)
	}
}

func do(t testing.TB, method, url, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

type output struct {
	Name     string          `json:"name"`
	Datatype string          `json:"datatype"`
	Shape    []int           `json:"shape"`
	Data     json.RawMessage `json:"data"`
}

type inferResponse struct {
	ModelName    string   `json:"model_name"`
	ModelVersion string   `json:"model_version"`
	Outputs      []output `json:"outputs"`
}

func (r inferResponse) get(t testing.TB, name string, v any) output {
	t.Helper()
	for _, o := range r.Outputs {
		if o.Name == name {
			if err := json.Unmarshal(o.Data, v); err != nil {
				t.Fatalf("output %s: %v", name, err)
			}
			return o
		}
	}
	t.Fatalf("no output %q in %+v", name, r)
	return output{}
}

func textInfer(texts ...string) string {
	b, _ := json.Marshal(map[string]any{"inputs": []any{map[string]any{"name": "text", "datatype": "BYTES", "shape": []int{len(texts)}, "data": texts}}})
	return string(b)
}

var texts = []string{"win free cash now", "meeting tomorrow with the team", "", "claim your bonus prize, click"}

// checkPredictions compares a v2 classifier answer with the library's.
func checkPredictions(t *testing.T, body []byte, want []tapeml.Prediction, classes int) {
	t.Helper()
	var r inferResponse
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	var (
		probs  []float32
		labels []int
		names  []string
	)
	o := r.get(t, "probs", &probs)
	r.get(t, "label", &labels)
	r.get(t, "class", &names)
	if fmt.Sprint(o.Shape) != fmt.Sprint([]int{len(want), classes}) || o.Datatype != "FP32" {
		t.Errorf("probs: %s %v", o.Datatype, o.Shape)
	}
	for i, w := range want {
		if labels[i] != w.Label || names[i] != w.Class {
			t.Errorf("example %d: served %d %s, library %d %s", i, labels[i], names[i], w.Label, w.Class)
		}
		for k, p := range w.Probs {
			if probs[i*classes+k] != p { // float32 survives JSON exactly
				t.Errorf("example %d class %d: served P=%v, library %v", i, k, probs[i*classes+k], p)
			}
		}
	}
}

func TestServer(t *testing.T) {
	dir := repository(t)
	ts := start(t, serve.Config{Models: dir, MaxBatch: 8, MaxDelay: 5 * time.Millisecond, Poll: -1, MaxBody: 64 << 10})
	ctx := context.Background()

	textV1, err := tapeml.Load(filepath.Join(legacy, "textcnn"))
	if err != nil {
		t.Fatal(err)
	}
	wantText, err := textV1.ClassifyTexts(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	textV2, err := tapeml.Load(filepath.Join(legacy, "textcnn.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	wantText2, err := textV2.ClassifyTexts(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	conv, err := tapeml.Load(filepath.Join(dir, "digits", "1"))
	if err != nil {
		t.Fatal(err)
	}
	raw, imgs := pixels(3)
	wantPixels, err := conv.ClassifyPixels(ctx, raw, 3)
	if err != nil {
		t.Fatal(err)
	}
	wantImages, err := conv.ClassifyImages(ctx, imgs)
	if err != nil {
		t.Fatal(err)
	}
	mf, err := tapeml.Load(filepath.Join(legacy, "mf"))
	if err != nil {
		t.Fatal(err)
	}
	wantRecs, err := mf.Recommend(ctx, "3", 4)
	if err != nil {
		t.Fatal(err)
	}
	wantRatings, err := mf.PredictRatings(ctx, []tapeml.UserItem{{User: "3", Item: wantRecs[0].Item}, {User: "nobody", Item: "1"}})
	if err != nil {
		t.Fatal(err)
	}

	pixelBody, _ := json.Marshal(map[string]any{"inputs": []any{map[string]any{"name": "images", "datatype": "FP32", "shape": []int{3, 1, 8, 8}, "data": raw}}})
	var encoded []string
	for _, img := range imgs {
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		encoded = append(encoded, base64.StdEncoding.EncodeToString(b.Bytes()))
	}
	imageBody, _ := json.Marshal(map[string]any{"inputs": []any{map[string]any{"name": "image", "datatype": "BYTES", "shape": []int{3}, "data": encoded}}})
	v1Images, _ := json.Marshal(map[string]any{"instances": []any{map[string]string{"b64": encoded[0]}, map[string]string{"b64": encoded[1]}}})
	nested := make([][][]float32, 1)
	nested[0] = make([][]float32, 8)
	for y := range 8 {
		nested[0][y] = raw[y*8 : y*8+8]
	}
	v1Pixels, _ := json.Marshal(map[string]any{"instances": []any{nested}})
	v1Texts, _ := json.Marshal(map[string]any{"instances": texts})

	type v1Pred struct {
		Class string    `json:"class"`
		Label int       `json:"label"`
		Probs []float32 `json:"probs"`
	}
	checkV1 := func(t *testing.T, body []byte, want []tapeml.Prediction) {
		var r struct{ Predictions []v1Pred }
		if err := json.Unmarshal(body, &r); err != nil || len(r.Predictions) != len(want) {
			t.Fatalf("%v: %s", err, body)
		}
		for i, w := range want {
			g := r.Predictions[i]
			if g.Class != w.Class || g.Label != w.Label || fmt.Sprint(g.Probs) != fmt.Sprint(w.Probs) {
				t.Errorf("instance %d: served %+v, library %+v", i, g, w)
			}
		}
	}
	contains := func(subs ...string) func(*testing.T, []byte) {
		return func(t *testing.T, body []byte) {
			for _, s := range subs {
				if !strings.Contains(string(body), s) {
					t.Errorf("answer lacks %s: %s", s, body)
				}
			}
		}
	}
	big := textInfer(strings.Repeat("spam ", 20000))

	cases := []struct {
		name, method, path, body string
		code                     int
		check                    func(*testing.T, []byte)
	}{
		{"live", "GET", "/v2/health/live", "", 200, contains(`"live":true`)},
		{"ready", "GET", "/v2/health/ready", "", 200, contains(`"ready":true`)},
		{"server metadata", "GET", "/v2", "", 200, contains(`"name":"tapeml"`)},
		{"model metadata", "GET", "/v2/models/spam", "", 200, contains(`"versions":["2","1"]`, `{"name":"text","datatype":"BYTES","shape":[-1]}`, `{"name":"probs","datatype":"FP32","shape":[-1,2]}`, `"stable":1`)},
		{"version metadata", "GET", "/v2/models/spam/versions/1", "", 200, contains(`"versions":["1"]`)},
		{"image metadata", "GET", "/v2/models/digits", "", 200, contains(`{"name":"images","datatype":"FP32","shape":[-1,1,8,8]}`, `{"name":"image","datatype":"BYTES","shape":[-1]}`, `"classes":["a","b","c"]`)},
		{"recommender metadata", "GET", "/v2/models/movies", "", 200, contains(`"name":"user"`, `"name":"items"`)},
		{"model ready", "GET", "/v2/models/spam/ready", "", 200, contains(`"ready":true`, `"version":"2"`)},
		{"version ready", "GET", "/v2/models/spam/versions/1/ready", "", 200, contains(`"version":"1"`)},
		{"infer default version", "POST", "/v2/models/spam/infer", textInfer(texts...), 200, func(t *testing.T, b []byte) { checkPredictions(t, b, wantText2, 2) }},
		{"infer version 1", "POST", "/v2/models/spam/versions/1/infer", textInfer(texts...), 200, func(t *testing.T, b []byte) { checkPredictions(t, b, wantText, 2) }},
		{"infer pixels", "POST", "/v2/models/digits/infer", string(pixelBody), 200, func(t *testing.T, b []byte) { checkPredictions(t, b, wantPixels, 3) }},
		{"infer png", "POST", "/v2/models/digits/versions/1/infer", string(imageBody), 200, func(t *testing.T, b []byte) { checkPredictions(t, b, wantImages, 3) }},
		{"recommend", "POST", "/v2/models/movies/infer", `{"inputs":[{"name":"user","datatype":"BYTES","shape":[1],"data":["3"]},{"name":"n","datatype":"INT32","shape":[1],"data":[4]}]}`, 200, func(t *testing.T, b []byte) {
			var r inferResponse
			json.Unmarshal(b, &r)
			var items []string
			var scores []float32
			r.get(t, "items", &items)
			r.get(t, "scores", &scores)
			for i, w := range wantRecs {
				if items[i] != w.Item || scores[i] != w.Score {
					t.Errorf("item %d: served %s %v, library %s %v", i, items[i], scores[i], w.Item, w.Score)
				}
			}
		}},
		{"ratings", "POST", "/v2/models/movies/infer", fmt.Sprintf(`{"inputs":[{"name":"user","datatype":"BYTES","shape":[2],"data":["3","nobody"]},{"name":"item","datatype":"BYTES","shape":[2],"data":[%q,"1"]}]}`, wantRecs[0].Item), 200, func(t *testing.T, b []byte) {
			var r inferResponse
			json.Unmarshal(b, &r)
			var scores []float32
			r.get(t, "scores", &scores)
			if fmt.Sprint(scores) != fmt.Sprint(wantRatings) {
				t.Errorf("served %v, library %v", scores, wantRatings)
			}
		}},
		{"selected output", "POST", "/v2/models/spam/infer", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["hi"]}],"outputs":[{"name":"class"}]}`, 200, func(t *testing.T, b []byte) {
			var r inferResponse
			json.Unmarshal(b, &r)
			if len(r.Outputs) != 1 || r.Outputs[0].Name != "class" {
				t.Errorf("outputs %+v", r.Outputs)
			}
		}},
		{"v1 predict", "POST", "/v1/models/spam:predict", string(v1Texts), 200, func(t *testing.T, b []byte) { checkV1(t, b, wantText2) }},
		{"v1 predict version", "POST", "/v1/models/spam/versions/1:predict", string(v1Texts), 200, func(t *testing.T, b []byte) { checkV1(t, b, wantText) }},
		{"v1 predict label", "POST", "/v1/models/spam/labels/stable:predict", string(v1Texts), 200, func(t *testing.T, b []byte) { checkV1(t, b, wantText) }},
		{"v1 predict b64", "POST", "/v1/models/digits:predict", string(v1Images), 200, func(t *testing.T, b []byte) { checkV1(t, b, wantImages[:2]) }},
		{"v1 predict pixels", "POST", "/v1/models/digits:predict", string(v1Pixels), 200, func(t *testing.T, b []byte) { checkV1(t, b, wantPixels[:1]) }},
		{"v1 recommend", "POST", "/v1/models/movies:predict", `{"instances":[{"user":"3","n":4}]}`, 200, contains(fmt.Sprintf(`"items":["%s"`, wantRecs[0].Item))},
		{"v1 status", "GET", "/v1/models/spam", "", 200, contains(`"model_version_status":[{"version":"2","state":"AVAILABLE"`, `{"version":"1","state":"AVAILABLE"`)},
		{"v1 status label", "GET", "/v1/models/spam/labels/canary", "", 200, contains(`[{"version":"2","state":"AVAILABLE"`)},
		{"v1 status failed", "GET", "/v1/models/broken", "", 200, contains(`"state":"END"`, `"error_code":"UNKNOWN"`, `meta.json`)},
		{"index", "POST", "/v2/repository/index", "", 200, contains(`{"name":"spam","version":"2","state":"READY","kind":"textcnn"}`, `"name":"broken","version":"1","state":"UNAVAILABLE"`)},
		{"web page", "GET", "/", "", 200, contains(`<title>tapeml serve</title>`)},
		{"web script", "GET", "/static/app.js", "", 200, contains(`/v2/repository/index`)},

		{"malformed JSON", "POST", "/v2/models/spam/infer", `{"inputs": [`, 400, contains(`"error":"malformed JSON body`)},
		{"trailing JSON", "POST", "/v2/models/spam/infer", textInfer("a") + "{}", 400, contains(`"error":`)},
		{"empty body", "POST", "/v2/models/spam/infer", ``, 400, contains(`"error":`)},
		{"wrong datatype", "POST", "/v2/models/spam/infer", `{"inputs":[{"name":"text","datatype":"FP32","shape":[1],"data":[1.5]}]}`, 400, contains(`datatype \"FP32\", want BYTES`)},
		{"wrong element type", "POST", "/v2/models/spam/infer", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":[1.5]}]}`, 400, contains(`want a string`)},
		{"wrong shape", "POST", "/v2/models/digits/infer", `{"inputs":[{"name":"images","datatype":"FP32","shape":[1,1,4,4],"data":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}]}`, 400, contains(`shape [1 1 4 4], want [N, 1, 8, 8]`)},
		{"shape and data disagree", "POST", "/v2/models/spam/infer", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[3],"data":["a","b"]}]}`, 400, contains(`2 elements for shape [3]`)},
		{"pixel out of range", "POST", "/v2/models/digits/infer", `{"inputs":[{"name":"images","datatype":"FP32","shape":[1,1,8,8],"data":[` + strings.Repeat("300,", 63) + `0]}]}`, 400, contains(`[0, 255]`)},
		{"unknown input", "POST", "/v2/models/spam/infer", `{"inputs":[{"name":"ids","datatype":"INT64","shape":[1],"data":[1]}]}`, 400, contains(`unknown input \"ids\"`)},
		{"not base64", "POST", "/v2/models/digits/infer", `{"inputs":[{"name":"image","datatype":"BYTES","shape":[1],"data":["%%%"]}]}`, 400, contains(`not base64`)},
		{"not an image", "POST", "/v2/models/digits/infer", `{"inputs":[{"name":"image","datatype":"BYTES","shape":[1],"data":["aGVsbG8="]}]}`, 400, contains(`not a PNG or JPEG`)},
		{"recommend n type", "POST", "/v2/models/movies/infer", `{"inputs":[{"name":"user","datatype":"BYTES","shape":[1],"data":["3"]},{"name":"n","datatype":"INT32","shape":[1],"data":[2.5]}]}`, 400, contains(`32-bit integer`)},
		{"v1 wrong instance", "POST", "/v1/models/spam:predict", `{"instances":[1]}`, 400, contains(`instance 0 is a number, want a string`)},
		{"v1 no instances", "POST", "/v1/models/spam:predict", `{}`, 400, contains(`"instances\" is missing`)},
		{"bad version", "POST", "/v2/models/spam/versions/x/infer", textInfer("a"), 400, contains(`not a positive integer`)},
		{"unknown model", "POST", "/v2/models/nope/infer", textInfer("a"), 404, contains(`unknown model \"nope\"`)},
		{"unknown model metadata", "GET", "/v2/models/nope", "", 404, contains(`unknown model`)},
		{"unknown version", "POST", "/v2/models/spam/versions/7/infer", textInfer("a"), 404, contains(`no version 7`)},
		{"unknown version ready", "GET", "/v2/models/spam/versions/7/ready", "", 404, contains(`no version 7`)},
		{"v1 unknown model", "POST", "/v1/models/nope:predict", string(v1Texts), 404, contains(`unknown model`)},
		{"v1 unknown label", "POST", "/v1/models/spam/labels/beta:predict", string(v1Texts), 404, contains(`no label \"beta\"`)},
		{"v1 unknown version status", "GET", "/v1/models/spam/versions/9", "", 404, contains(`no version 9`)},
		{"unknown endpoint", "GET", "/v3/things", "", 404, contains(`no such endpoint`)},
		{"body over limit", "POST", "/v2/models/spam/infer", big, 413, contains(`"error":"request body`)},
		{"v1 body over limit", "POST", "/v1/models/spam:predict", big, 413, contains(`"error":"request body`)},
		{"failed version", "POST", "/v2/models/broken/versions/1/infer", textInfer("a"), 503, contains(`failed to load`)},
		{"no version loaded", "POST", "/v2/models/broken/infer", textInfer("a"), 503, contains(`no version loaded`)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := do(t, c.method, ts.url+c.path, c.body)
			if code != c.code {
				t.Fatalf("%s %s: status %d, want %d: %s", c.method, c.path, code, c.code, body)
			}
			if c.code >= 400 && !strings.HasPrefix(string(body), `{"error":`) {
				t.Errorf("error body %s is not {\"error\": ...}", body)
			}
			c.check(t, body)
		})
	}

	t.Run("chunked body over limit", func(t *testing.T) {
		// No Content-Length: the limit applies while reading.
		req, _ := http.NewRequest("POST", ts.url+"/v2/models/spam/infer", io.MultiReader(strings.NewReader(big)))
		req.ContentLength = -1
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 413 {
			t.Errorf("status %d, want 413", resp.StatusCode)
		}
	})

	t.Run("concurrent requests are batched and answered in order", func(t *testing.T) {
		var wg sync.WaitGroup
		for i := range 24 {
			wg.Go(func() {
				mine := []string{texts[i%4], texts[(i+1)%4]}
				want := []tapeml.Prediction{wantText2[i%4], wantText2[(i+1)%4]}
				code, body := do(t, "POST", ts.url+"/v2/models/spam/infer", textInfer(mine...))
				if code != 200 {
					t.Errorf("status %d: %s", code, body)
					return
				}
				checkPredictions(t, body, want, 2)
			})
		}
		wg.Wait()
	})

	t.Run("metrics", func(t *testing.T) {
		_, body := do(t, "GET", ts.url+"/metrics", "")
		for _, s := range []string{
			`tapeml_inference_request_success{model="spam",version="2"}`,
			`tapeml_inference_request_failure{code="400",model="spam",version="2"}`,
			`tapeml_inference_count{model="spam",version="2"}`,
			`tapeml_inference_exec_count{model="spam",version="2"}`,
			`tapeml_inference_queue_duration_seconds_bucket{model="spam",version="2"`,
			`tapeml_inference_compute_duration_seconds_count{model="digits",version="1"}`,
			`tapeml_model_versions_loaded{model="spam"} 2`,
			`tapeml_model_reload_failures_total{model="broken"} 1`,
			`tapeml_http_requests_total{code="413"}`,
		} {
			if !strings.Contains(string(body), s) {
				t.Errorf("metrics lack %s", s)
			}
		}
		count, exec := metric(t, body, `tapeml_inference_count{model="spam",version="2"}`), metric(t, body, `tapeml_inference_exec_count{model="spam",version="2"}`)
		if count < 48 || exec < 1 || exec > count {
			t.Errorf("inference count %v, executions %v", count, exec)
		}
	})

	t.Run("hot reload", func(t *testing.T) {
		copyDir(t, filepath.Join(legacy, "textcnn"), filepath.Join(dir, "spam", "3"))
		if err := ts.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if code, body := do(t, "POST", ts.url+"/v2/models/spam/infer", textInfer(texts...)); code != 200 || !strings.Contains(string(body), `"model_version":"3"`) {
			t.Errorf("after adding version 3: %d %s", code, body)
		}
		// A broken new version is reported and serves nothing; the
		// others keep serving.
		writeFile(t, filepath.Join(dir, "spam", "4", "meta.json"), "not json")
		if err := ts.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if code, body := do(t, "POST", ts.url+"/v2/models/spam/infer", textInfer(texts...)); code != 200 || !strings.Contains(string(body), `"model_version":"3"`) {
			t.Errorf("after a broken version 4: %d %s", code, body)
		}
		if code, body := do(t, "GET", ts.url+"/v1/models/spam/versions/4", ""); code != 200 || !strings.Contains(string(body), `"state":"END"`) {
			t.Errorf("status of broken version 4: %d %s", code, body)
		}
		os.RemoveAll(filepath.Join(dir, "spam", "3"))
		os.RemoveAll(filepath.Join(dir, "spam", "4"))
		if err := ts.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if code, body := do(t, "POST", ts.url+"/v2/models/spam/versions/3/infer", textInfer(texts...)); code != 404 {
			t.Errorf("removed version 3: %d %s", code, body)
		}
		// Latest 1 by default: a config change unloads version 1.
		os.Remove(filepath.Join(dir, "spam", "config.json"))
		if err := ts.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if code, _ := do(t, "GET", ts.url+"/v2/models/spam/versions/1/ready", ""); code != 404 {
			t.Errorf("version 1 after the policy became latest 1: status %d", code)
		}
	})

	t.Run("graceful shutdown", func(t *testing.T) {
		ts.stop(t)
		if _, err := http.Get(ts.url + "/v2/health/live"); err == nil {
			t.Errorf("server still answers after shutdown")
		}
	})
}

// metric reads a sample's value from the Prometheus text format.
func metric(t testing.TB, body []byte, series string) float64 {
	for _, line := range strings.Split(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			var v float64
			fmt.Sscan(rest, &v)
			return v
		}
	}
	t.Errorf("no series %s", series)
	return 0
}

// pixels returns n deterministic gray 8×8 images as raw values and as
// images.
func pixels(n int) ([]float32, []image.Image) {
	raw := make([]float32, n*64)
	imgs := make([]image.Image, n)
	for k := range n {
		g := image.NewGray(image.Rect(0, 0, 8, 8))
		for i := range 64 {
			v := uint8((i*37 + k*91 + 13) % 256)
			g.Pix[i] = v
			raw[k*64+i] = float32(v)
		}
		imgs[k] = g
	}
	return raw, imgs
}
