package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tapeml/tapeml/serve"
	"github.com/tapeml/tapeml/tapemltest"
)

// metricValue reads one series from the server's /metrics.
func metricValue(t testing.TB, url, series string) float64 {
	t.Helper()
	_, body := do(t, "GET", url+"/metrics", "")
	return metric(t, body, series)
}

// texts returns n short texts as a v2 body.
func manyTexts(n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = "win free cash now, meeting tomorrow"
	}
	return textInfer(s...)
}

// TestAbandonedRequestStops: a long request runs in chunks of the
// largest batch, and once its client has left it stops at the next one;
// requests arriving meanwhile run between its chunks.
func TestAbandonedRequestStops(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, filepath.Join(legacy, "lstm"), filepath.Join(dir, "lstm", "1"))
	ts := start(t, serve.Config{Models: dir, MaxBatch: 1, Workers: 1, Poll: -1, Logger: quiet(), Limits: serve.Limits{Instances: 1 << 20, Elements: 1 << 20, TextBytes: 64 << 20}})
	const n = 200000
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", ts.url+"/v2/models/lstm/infer", strings.NewReader(manyTexts(n)))
	req.Header.Set("Content-Type", "application/json")
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			err = errors.New(resp.Status)
		}
		done <- err
	}()
	series := `tapeml_inference_exec_count{model="lstm",version="1"}`
	deadline := time.Now().Add(30 * time.Second)
	for metricValueOr(ts.url, series) < 50 {
		if time.Now().After(deadline) {
			t.Fatal("the long request is not running")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Another request gets through between the chunks.
	t0 := time.Now()
	if code, body := do(t, "POST", ts.url+"/v2/models/lstm/infer", textInfer("hello")); code != 200 {
		t.Fatalf("a request during the long one: %d %s", code, body)
	}
	t.Logf("a 1-text request during the long one took %v", time.Since(t0))
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("the long request ended with %v, want it cancelled", err)
	}
	// Within a second, the server stops running its chunks.
	var ran float64
	for range 100 {
		time.Sleep(20 * time.Millisecond)
		a := metricValue(t, ts.url, series)
		time.Sleep(200 * time.Millisecond)
		if ran = metricValue(t, ts.url, series); ran == a {
			break
		}
	}
	if ran >= n {
		t.Fatalf("all %v chunks ran", ran)
	}
	time.Sleep(200 * time.Millisecond)
	if after := metricValue(t, ts.url, series); after != ran {
		t.Fatalf("chunks still running: %v then %v", ran, after)
	}
	t.Logf("%v of %d chunks ran before the client left", ran, n)
}

func metricValueOr(url, series string) float64 {
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			var v float64
			json.Unmarshal([]byte(rest), &v)
			return v
		}
	}
	return 0
}

// TestShutdownCancelsLongWork: a graceful shutdown waits ShutdownTimeout
// for the requests in flight, then cancels them and returns. (The tagged
// test TestHostileSIGTERMDuringExplain does it to a process during a long explain.)
func TestShutdownCancelsLongWork(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, filepath.Join(legacy, "lstm"), filepath.Join(dir, "lstm", "1"))
	const timeout = 300 * time.Millisecond
	ts := start(t, serve.Config{Models: dir, MaxBatch: 2, Poll: -1, Logger: quiet(), ShutdownTimeout: timeout, Limits: serve.Limits{Instances: 1 << 20, TextBytes: 64 << 20}})
	answered := make(chan int, 1)
	go func() {
		resp, err := http.Post(ts.url+"/v2/models/lstm/infer", "application/json", strings.NewReader(manyTexts(200000)))
		if err != nil {
			t.Logf("the long request: %v", err)
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	series := `tapeml_inference_exec_count{model="lstm",version="1"}`
	for deadline := time.Now().Add(30 * time.Second); metricValueOr(ts.url, series) < 10; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the long request is not running")
		}
	}
	t0 := time.Now()
	ts.cancel()
	ts.cancel = nil
	if err := <-ts.done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	took := time.Since(t0)
	if took > timeout+time.Second {
		t.Fatalf("shutdown took %v with a %v timeout", took, timeout)
	}
	select {
	case code := <-answered:
		if code == 200 {
			t.Fatalf("the long request finished: it was not long enough to test anything")
		}
		t.Logf("shutdown took %v; the long request answered %d", took, code)
	case <-time.After(5 * time.Second):
		t.Fatal("the long request never ended")
	}
}

// TestFIFOConfig: a FIFO (or anything but a regular file) named
// config.json is reported and its model skipped, at start and while
// serving; the others are served and the server stops cleanly.
func TestFIFOConfig(t *testing.T) {
	dir := repository(t)
	fifo := filepath.Join(dir, "spam", "config.json")
	os.Remove(fifo)
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	var logs lockedBuffer
	started := make(chan *testServer, 1)
	go func() {
		started <- start(t, serve.Config{Models: dir, Poll: 20 * time.Millisecond, Logger: slogTo(&logs)})
	}()
	var ts *testServer
	select {
	case ts = <-started:
	case <-time.After(20 * time.Second):
		t.Fatal("the server never started")
	}
	if code, body := do(t, "POST", ts.url+"/v2/models/digits/infer", `{"inputs":[{"name":"images","datatype":"FP32","shape":[1,1,8,8],"data":[`+strings.Repeat("0,", 63)+`0]}]}`); code != 200 {
		t.Errorf("another model: %d %s", code, body)
	}
	if code, body := do(t, "GET", ts.url+"/v2/models/spam/ready", ""); code == 200 {
		t.Errorf("the model with a FIFO config: %d %s", code, body)
	}
	// While serving: another model's config.json becomes a FIFO.
	fifo2 := filepath.Join(dir, "movies", "config.json")
	if err := syscall.Mkfifo(fifo2, 0o644); err != nil {
		t.Fatal(err)
	}
	reloaded := make(chan error, 1)
	go func() { reloaded <- ts.Reload(context.Background()) }()
	select {
	case <-reloaded:
	case <-time.After(10 * time.Second):
		t.Fatal("a reload hangs on the FIFO")
	}
	if code, body := do(t, "POST", ts.url+"/v2/models/digits/infer", `{"inputs":[{"name":"images","datatype":"FP32","shape":[1,1,8,8],"data":[`+strings.Repeat("0,", 63)+`0]}]}`); code != 200 {
		t.Errorf("after the reload: %d %s", code, body)
	}
	stopped := make(chan struct{})
	go func() { ts.stop(t); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("shutdown hangs")
	}
	if !strings.Contains(logs.String(), "FIFO") {
		t.Errorf("the FIFO is not in the log:\n%s", logs.String())
	}
}

// TestNonFiniteModel: a NaN or infinite output is a 500 for that request
// with a clear message, counted as a failure — never a 200; a model
// that overflows on its warm-up inputs, or whose normalization is not
// finite in float32, is unavailable.
func TestNonFiniteModel(t *testing.T) {
	dir := t.TempDir()
	if err := tapemltest.Overflowing(filepath.Join(legacy, "textcnn"), filepath.Join(dir, "win", "1"), 31); err != nil { // 31: "win"
		t.Fatal(err)
	}
	if err := tapemltest.Overflowing(filepath.Join(legacy, "textcnn"), filepath.Join(dir, "pad", "1"), 0); err != nil {
		t.Fatal(err)
	}
	conv := filepath.Join(dir, "std", "1")
	copyDir(t, convnetCheckpoint(t, 1), conv)
	meta, err := os.ReadFile(filepath.Join(conv, "meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	tampered := regexp.MustCompile(`"std":\s*\[\s*0.2\s*\]`).ReplaceAllString(string(meta), `"std": [1e-300]`)
	if tampered == string(meta) {
		t.Fatalf("no std in %s", meta)
	}
	writeFile(t, filepath.Join(conv, "meta.json"), tampered)
	ts := start(t, serve.Config{Models: dir, Poll: -1, Logger: quiet()})

	code, body := do(t, "POST", ts.url+"/v2/models/win/infer", textInfer("meeting tomorrow", "win free cash"))
	if code != 500 || !strings.Contains(string(body), "not finite") || !strings.Contains(string(body), "example 1") {
		t.Errorf("a text that overflows: %d %s, want 500 naming the non-finite output", code, body)
	}
	if code, body := do(t, "POST", ts.url+"/v1/models/win:predict", `{"instances":["win"]}`); code != 500 || !strings.Contains(string(body), "not finite") {
		t.Errorf("v1: %d %s", code, body)
	}
	if code, body := do(t, "POST", ts.url+"/v2/models/win/infer", textInfer("meeting tomorrow")); code != 200 {
		t.Errorf("a text that does not: %d %s", code, body)
	}
	if f := metricValue(t, ts.url, `tapeml_inference_request_failure{code="500",model="win",version="1"}`); f != 2 {
		t.Errorf("failures counted: %v, want 2", f)
	}
	for _, name := range []string{"pad", "std"} {
		if code, body := do(t, "POST", ts.url+"/v2/models/"+name+"/versions/1/infer", textInfer("x")); code != 503 || !strings.Contains(string(body), "failed to load") {
			t.Errorf("model %s: %d %s, want 503: failed to load", name, code, body)
		}
	}
	_, index := do(t, "POST", ts.url+"/v2/repository/index", "")
	for _, want := range []string{`"name":"pad","version":"1","state":"UNAVAILABLE"`, "not finite", `"name":"std","version":"1","state":"UNAVAILABLE"`, "float32"} {
		if !strings.Contains(string(index), want) {
			t.Errorf("index lacks %s: %s", want, index)
		}
	}
}

// TestErrorsHidePaths: clients learn what is wrong, not where the server
// keeps its files; every error carries a request id.
func TestErrorsHidePaths(t *testing.T) {
	dir := repository(t)
	abs, _ := filepath.Abs(dir)
	ts := start(t, serve.Config{Models: dir, Poll: -1, Logger: quiet()})
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/v1/models/broken", ""},
		{"POST", "/v2/repository/index", ""},
		{"POST", "/v2/models/broken/versions/1/infer", textInfer("a")},
	} {
		code, body := do(t, c.method, ts.url+c.path, c.body)
		if strings.Contains(string(body), abs) || strings.Contains(string(body), os.TempDir()) {
			t.Errorf("%s %s: %d %s names a server path", c.method, c.path, code, body)
		}
		if !strings.Contains(string(body), "broken/1/meta.json") {
			t.Errorf("%s %s: %s does not say which file is wrong", c.method, c.path, body)
		}
	}
	code, body := do(t, "POST", ts.url+"/v2/models/broken/versions/1/infer", textInfer("a"))
	var e struct {
		Error     string `json:"error"`
		RequestID string `json:"request_id"`
	}
	if json.Unmarshal(body, &e); code != 503 || e.RequestID == "" {
		t.Errorf("%d %s: want a request id", code, body)
	}
}

// TestV1Names: a model named a:b, and labels holding '/', are
// addressable on v1.
func TestV1Names(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, filepath.Join(legacy, "textcnn"), filepath.Join(dir, "a:b", "1"))
	writeFile(t, filepath.Join(dir, "a:b", "config.json"), `{"labels": {"team/stable": 1}}`)
	ts := start(t, serve.Config{Models: dir, Poll: -1, Logger: quiet()})
	for _, c := range []struct{ method, path, body, want string }{
		{"GET", "/v1/models/a:b", "", `"state":"AVAILABLE"`},
		{"POST", "/v1/models/a:b:predict", `{"instances":["win"]}`, `"predictions"`},
		{"GET", "/v1/models/a:b/labels/team%2Fstable", "", `"version":"1"`},
		{"POST", "/v1/models/a:b/labels/team%2Fstable:predict", `{"instances":["win"]}`, `"predictions"`},
		{"POST", "/v1/models/a%3Ab/versions/1:predict", `{"instances":["win"]}`, `"predictions"`},
		{"POST", "/v2/models/a:b/infer", textInfer("win"), `"model_name":"a:b"`},
	} {
		if code, body := do(t, c.method, ts.url+c.path, c.body); code != 200 || !strings.Contains(string(body), c.want) {
			t.Errorf("%s %s: %d %s", c.method, c.path, code, body)
		}
	}
	if code, body := do(t, "POST", ts.url+"/v1/models/a:b:classify", `{"instances":["win"]}`); code != 404 || !strings.Contains(string(body), "unknown verb") {
		t.Errorf(":classify: %d %s", code, body)
	}
}

// TestConcurrencyLimit: beyond MaxConcurrentRequests in flight for one
// model, a request is answered 503 with Retry-After.
func TestConcurrencyLimit(t *testing.T) {
	ts := start(t, serve.Config{Models: repository(t), Poll: -1, Logger: quiet(), MaxConcurrentRequests: 1})
	// A request whose body is still arriving holds its model's slot.
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", ts.url+"/v2/models/spam/infer", pr)
	req.Header.Set("Content-Type", "application/json")
	slow := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			slow <- 0
			return
		}
		resp.Body.Close()
		slow <- resp.StatusCode
	}()
	pw.Write([]byte(`{"inputs":[{"name":"text","datatype":"BYTES",`))
	var resp *http.Response
	for range 200 {
		time.Sleep(10 * time.Millisecond)
		r, err := http.Post(ts.url+"/v2/models/spam/infer", "application/json", strings.NewReader(textInfer("a")))
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode == 503 {
			resp = r
			break
		}
	}
	if resp == nil || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("no 503 with Retry-After while a request is in flight: %+v", resp)
	}
	// Other models are not held back.
	if code, body := do(t, "POST", ts.url+"/v2/models/digits/infer", `{"inputs":[{"name":"images","datatype":"FP32","shape":[1,1,8,8],"data":[`+strings.Repeat("0,", 63)+`0]}]}`); code != 200 {
		t.Errorf("another model: %d %s", code, body)
	}
	pw.Write([]byte(`"shape":[1],"data":["a"]}]}`))
	pw.Close()
	if code := <-slow; code != 200 {
		t.Errorf("the slow request: %d", code)
	}
	if code, body := do(t, "POST", ts.url+"/v2/models/spam/infer", textInfer("a")); code != 200 {
		t.Errorf("after: %d %s", code, body)
	}
}

// TestConnectionLimit: idle keep-alive connections beyond MaxConnections
// do not pile up — the longest idle ones are closed — and a new client
// still gets an answer.
func TestConnectionLimit(t *testing.T) {
	ts := start(t, serve.Config{Models: repository(t), Poll: -1, Logger: quiet(), MaxConnections: 8})
	addr := strings.TrimPrefix(ts.url, "http://")
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 40 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		io.WriteString(c, "GET /v2/health/live HTTP/1.1\r\nHost: "+addr+"\r\n\r\n")
		buf := make([]byte, 512)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(buf); err != nil {
			t.Fatalf("connection %d: %v", len(conns), err)
		}
	}
	if open := metricValue(t, ts.url, `tapeml_connections_open{protocol="http"}`); open > 8 {
		t.Errorf("%v connections open, limit 8", open)
	}
	if ev := metricValue(t, ts.url, `tapeml_connections_evicted_total{protocol="http"}`); ev < 32 {
		t.Errorf("%v idle connections evicted, want at least 32", ev)
	}
	if code, body := do(t, "POST", ts.url+"/v2/models/spam/infer", textInfer("a")); code != 200 {
		t.Errorf("a new client: %d %s", code, body)
	}

	// When every connection has a request in progress (a body still
	// arriving), a new connection is refused: closed at once.
	busy := func() {
		for _, c := range conns {
			c.Close()
		}
		conns = conns[:0]
		for range 8 {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
			io.WriteString(c, "POST /v2/models/spam/infer HTTP/1.1\r\nHost: "+addr+"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
		}
	}
	refused := func() bool {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return true
		}
		defer c.Close()
		io.WriteString(c, "GET /v2/health/live HTTP/1.1\r\nHost: "+addr+"\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = c.Read(make([]byte, 512))
		return err != nil
	}
	// A connection counts as busy once the server has read its request's
	// first bytes; until then it is new and silent, and a new connection
	// replaces it. So: wait a moment, and start again if that happened.
	var ok bool
	for wait := 50 * time.Millisecond; wait < 10*time.Second && !ok; wait *= 2 {
		busy()
		time.Sleep(wait)
		ok = refused()
	}
	if !ok {
		t.Fatal("a connection beyond the limit, all 8 busy, was answered")
	}
	for _, c := range conns {
		c.Close()
	}
	conns = conns[:0]
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		code, _ := doMaybe(ts.url + "/v2/health/live")
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no answer once the busy connections closed")
		}
	}
	if r := metricValue(t, ts.url, `tapeml_connections_refused_total{protocol="http"}`); r < 1 {
		t.Errorf("refused connections counted: %v", r)
	}
}

// doMaybe GETs url, 0 on a connection error.
func doMaybe(url string) (int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// slogTo is a logger writing text lines to b.
func slogTo(b *lockedBuffer) *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

// lockedBuffer is a buffer that goroutines write to and read at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
