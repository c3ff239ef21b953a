package serve_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/repo"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/serve"
	"github.com/tapeml/tapeml/serve/inference"
)

// perturbed copies the checkpoint src to dst with noise of the given
// scale added to every float weight: a second version that agrees with
// the first on some inputs and not on others.
func perturbed(t testing.TB, src, dst string, scale float32, seed uint64) {
	t.Helper()
	c, err := checkpoint.Load(src)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	for i, w := range c.Weights {
		if w.Dtype != "F32" || strings.Contains(w.Name, "running_") {
			continue
		}
		v, err := w.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		for j := range v {
			v[j] += scale * float32(rng.NormFloat64())
		}
		c.Weights[i] = safetensors.F32(w.Name, w.Shape, v)
	}
	if err := checkpoint.Save(dst, c); err != nil {
		t.Fatal(err)
	}
}

// canaryRepo is a model "digits" in versions 1 and 2 (2 = 1 perturbed)
// with config.json as given.
func canaryRepo(t testing.TB, config string) string {
	dir := t.TempDir()
	src := convnetCheckpoint(t, 1)
	copyDir(t, src, filepath.Join(dir, "digits", "1"))
	perturbed(t, src, filepath.Join(dir, "digits", "2"), 0.15, 5)
	writeFile(t, filepath.Join(dir, "digits", "config.json"), config)
	return dir
}

func pixelBody(n, seed int) string {
	raw := make([]float32, n*64)
	rng := rand.New(rand.NewPCG(uint64(seed), 9))
	for i := range raw {
		raw[i] = float32(rng.IntN(256))
	}
	b, _ := json.Marshal(map[string]any{"inputs": []any{map[string]any{"name": "images", "datatype": "FP32", "shape": []int{n, 1, 8, 8}, "data": raw}}})
	return string(b)
}

var trafficRequests = flag.Int("traffic.requests", 3000, "requests TestTrafficSplit sends (the acceptance run: 10000)")

// TestTrafficSplit sends requests naming no version (-traffic.requests,
// 3,000 by default: about 3 s here) from 8 concurrent clients over
// loopback to a 10/90 split: version 2's share is within ±2 points of
// 10% (3.6 standard deviations at 3,000 requests, 6.7 at 10,000), and no
// request fails. Then, with a sticky header, every value goes to one
// version every time.
func TestTrafficSplit(t *testing.T) {
	const clients = 8
	requests := int64(*trafficRequests)
	dir := canaryRepo(t, `{"traffic": {"2": 10, "1": 90}}`)
	ts := start(t, serve.Config{Models: dir, Poll: -1, StickyHeader: "X-User", MaxDelay: 0})
	body := pixelBody(1, 1)
	var counts [3]atomic.Int64
	var failed atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for next.Add(1) <= requests {
				resp, err := http.Post(ts.url+"/v2/models/digits/infer", "application/json", strings.NewReader(body))
				if err != nil {
					failed.Add(1)
					continue
				}
				var r inferResponse
				err = json.NewDecoder(resp.Body).Decode(&r)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || (r.ModelVersion != "1" && r.ModelVersion != "2") {
					failed.Add(1)
					continue
				}
				counts[r.ModelVersion[0]-'0'].Add(1)
			}
		})
	}
	wg.Wait()
	share := float64(counts[2].Load()) / float64(requests)
	t.Logf("%d requests: version 1 %d, version 2 %d (%.2f%%), %d failed", requests, counts[1].Load(), counts[2].Load(), 100*share, failed.Load())
	if failed.Load() != 0 || counts[1].Load()+counts[2].Load() != requests {
		t.Fatalf("%d requests failed", failed.Load())
	}
	if share < 0.08 || share > 0.12 {
		t.Fatalf("version 2 got %.2f%% of the requests, want 10 ± 2", 100*share)
	}
	// A request naming a version or a label is not split.
	if code, b := do(t, "POST", ts.url+"/v2/models/digits/versions/2/infer", body); code != 200 || !strings.Contains(string(b), `"model_version":"2"`) {
		t.Fatalf("versioned request: %d %s", code, b)
	}
	// Sticky: each user's 20 requests go to one version; users spread.
	users := map[string]string{}
	for u := range 60 {
		user := fmt.Sprintf("user-%d", u)
		for range 20 {
			req, _ := http.NewRequest("POST", ts.url+"/v2/models/digits/infer", strings.NewReader(body))
			req.Header.Set("X-User", user)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var r inferResponse
			err = json.NewDecoder(resp.Body).Decode(&r)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("%s: %d %v", user, resp.StatusCode, err)
			}
			if prev, ok := users[user]; ok && prev != r.ModelVersion {
				t.Fatalf("%s went to version %s, then %s", user, prev, r.ModelVersion)
			}
			users[user] = r.ModelVersion
		}
	}
	perVersion := map[string]int{}
	for _, v := range users {
		perVersion[v]++
	}
	if perVersion["1"] == 0 || perVersion["2"] == 0 {
		t.Fatalf("60 users all went to one version: %v", perVersion)
	}
	_, m := do(t, "GET", ts.url+"/metrics", "")
	if got := metric(t, m, `tapeml_traffic_routed_total{mode="weighted",model="digits",version="2"}`); got != float64(counts[2].Load()) {
		t.Errorf("routed counter %v, version 2 answered %d", got, counts[2].Load())
	}
}

// TestShadow sends requests naming no version to version 1 with version 2
// as its shadow: the answers are version 1's, no request fails, and the
// disagreement counter equals a direct comparison of the two versions.
func TestShadow(t *testing.T) {
	dir := canaryRepo(t, `{"version_policy": {"specific": {"versions": [1]}}, "shadow": 2}`)
	ts := start(t, serve.Config{Models: dir, Poll: -1})
	a, err := tapeml.Load(filepath.Join(dir, "digits", "1"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := tapeml.Load(filepath.Join(dir, "digits", "2"))
	if err != nil {
		t.Fatal(err)
	}
	const requests, batch = 60, 4
	want := 0
	for i := range requests {
		body := pixelBody(batch, 100+i)
		code, out := do(t, "POST", ts.url+"/v2/models/digits/infer", body)
		if code != 200 || !strings.Contains(string(out), `"model_version":"1"`) {
			t.Fatalf("request %d: %d %s", i, code, out)
		}
		var req struct {
			Inputs []struct {
				Data []float32 `json:"data"`
			} `json:"inputs"`
		}
		json.Unmarshal([]byte(body), &req)
		pa, err := a.ClassifyPixels(context.Background(), req.Inputs[0].Data, batch)
		if err != nil {
			t.Fatal(err)
		}
		pb, err := b.ClassifyPixels(context.Background(), req.Inputs[0].Data, batch)
		if err != nil {
			t.Fatal(err)
		}
		for j := range pa {
			if pa[j].Label != pb[j].Label {
				want++
			}
		}
	}
	// The copies run in the background: wait for all of them.
	var m []byte
	for range 200 {
		_, m = do(t, "GET", ts.url+"/metrics", "")
		if metric(t, m, `tapeml_shadow_requests_total{model="digits",version="2"}`) == requests {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	got := metric(t, m, `tapeml_shadow_disagreements_total{model="digits",version="2"}`)
	n := metric(t, m, `tapeml_shadow_examples_total{model="digits",version="2"}`)
	t.Logf("shadow: %v of %v examples disagree; direct count %d", got, n, want)
	if n != requests*batch || got != float64(want) {
		t.Fatalf("shadow counted %v disagreements over %v examples; direct comparison: %d over %d", got, n, want, requests*batch)
	}
	if want == 0 || want == requests*batch {
		t.Fatalf("the two versions disagree on %d of %d examples: the test needs some of each", want, requests*batch)
	}
	if f := metric(t, m, `tapeml_inference_request_success{model="digits",version="1"}`); f != requests {
		t.Fatalf("%v requests answered by version 1, want %d", f, requests)
	}
}

// TestPinnedVersionsLoad checks that versions named by labels, a traffic
// split or the shadow are served though the policy (latest 1) selects
// only the highest.
func TestPinnedVersionsLoad(t *testing.T) {
	dir := canaryRepo(t, `{"labels": {"stable": 1}}`)
	copyDir(t, filepath.Join(dir, "digits", "1"), filepath.Join(dir, "digits", "3"))
	ts := start(t, serve.Config{Models: dir, Poll: -1})
	code, b := do(t, "GET", ts.url+"/v1/models/digits", "")
	if code != 200 || !strings.Contains(string(b), `"version":"1"`) || !strings.Contains(string(b), `"version":"3"`) || strings.Contains(string(b), `"version":"2"`) {
		t.Fatalf("served: %s", b)
	}
	for _, bad := range []string{`{"traffic": {"x": 1}}`, `{"traffic": {"1": -1}}`, `{"traffic": {"1": 0}}`, `{"shadow": -2}`} {
		writeFile(t, filepath.Join(dir, "digits", "config.json"), bad)
		if err := ts.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
		// A bad config keeps the model served as it was.
		if code, _ := do(t, "POST", ts.url+"/v2/models/digits/infer", pixelBody(1, 3)); code != 200 {
			t.Fatalf("%s: infer %d", bad, code)
		}
	}
}

// TestPromoteRollbackUnderLoad moves a label with repo.Promote and back
// with repo.Rollback while clients send requests to it: the server
// follows each move within one poll interval (plus the scan), and no
// request fails. The policy keeps both versions loaded, as a deployment
// that wants an instant rollback does; a rollback to a version no longer
// loaded waits for it to load and warm up as well.
func TestPromoteRollbackUnderLoad(t *testing.T) {
	const poll = 200 * time.Millisecond
	dir := canaryRepo(t, `{"version_policy": {"latest": {"num_versions": 2}}, "labels": {"stable": 1}}`)
	ts := start(t, serve.Config{Models: dir, Poll: poll})
	stop := make(chan struct{})
	var sent, failed atomic.Int64
	var wg sync.WaitGroup
	body := `{"instances": [[[` + strings.TrimSuffix(strings.Repeat("[0,0,0,0,0,0,0,0],", 8), ",") + `]]]}`
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Post(ts.url+"/v1/models/digits/labels/stable:predict", "application/json", strings.NewReader(body))
				sent.Add(1)
				if err != nil {
					failed.Add(1)
					continue
				}
				if resp.StatusCode != 200 {
					failed.Add(1)
				}
				resp.Body.Close()
			}
		})
	}
	follow := func(want string) time.Duration {
		start := time.Now()
		for time.Since(start) < 5*time.Second {
			if _, b := do(t, "GET", ts.url+"/v1/models/digits/labels/stable", ""); strings.Contains(string(b), `"version":"`+want+`"`) {
				return time.Since(start)
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Fatalf("the server did not follow stable → %s in 5 s", want)
		return 0
	}
	time.Sleep(100 * time.Millisecond)
	if _, err := repo.Promote(context.Background(), dir, "digits", "stable", 2, repo.LabelOptions{Who: "test"}); err != nil {
		t.Fatal(err)
	}
	up := follow("2")
	time.Sleep(100 * time.Millisecond)
	if _, err := repo.Rollback(context.Background(), dir, "digits", "stable", repo.LabelOptions{Who: "test"}); err != nil {
		t.Fatal(err)
	}
	back := follow("1")
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("promote followed in %v, rollback in %v (poll %v); %d requests, %d failed", up.Round(time.Millisecond), back.Round(time.Millisecond), poll, sent.Load(), failed.Load())
	if failed.Load() != 0 || sent.Load() == 0 {
		t.Fatalf("%d of %d requests failed", failed.Load(), sent.Load())
	}
	if limit := poll + 100*time.Millisecond; up > limit || back > limit {
		t.Fatalf("followed in %v and %v, want within the poll interval %v (+100 ms for the scan)", up, back, poll)
	}
}

// TestGRPCTrafficAndShadow checks that gRPC ModelInfer follows a model's
// traffic split and feeds its shadow as REST does: a third of
// -traffic.requests calls naming no version (1,000 by default: about
// 2.5 s here, each call copied to the shadow) from 8 concurrent clients
// give version 2 a share within 4 standard deviations of 10% (±3.8
// points at 1,000 calls; at least ±2), the sticky metadata key pins each user
// to one version, every admitted call naming no version is copied to the
// shadow (version 3), and the disagreement counter equals a direct
// comparison of the labels returned with version 3's. Calls naming a
// version, and calls refused for want of a token, are neither split nor
// copied.
func TestGRPCTrafficAndShadow(t *testing.T) {
	const clients, batch, inputs = 8, 2, 40
	requests := int64(*trafficRequests / 3)
	dir := canaryRepo(t, `{"traffic": {"2": 10, "1": 90}, "shadow": 3}`)
	perturbed(t, filepath.Join(dir, "digits", "1"), filepath.Join(dir, "digits", "3"), 0.15, 7)
	// ShadowConcurrency above the calls made: no copy is skipped as busy,
	// so the counters can be compared with a direct count.
	ts := start(t, serve.Config{Models: dir, Poll: -1, MaxDelay: 0, StickyHeader: "X-User", ShadowConcurrency: 1 << 16,
		AuthTokens: []string{testToken}, OpenHealth: true, Logger: quiet()})
	client := grpcClient(t, ts.grpcAddr)
	authed := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+testToken)

	shadowModel, err := tapeml.Load(filepath.Join(dir, "digits", "3"))
	if err != nil {
		t.Fatal(err)
	}
	reqs := make([]*inference.ModelInferRequest, inputs)
	shadowLabels := make([][]int, inputs)
	for i := range reqs {
		raw := make([]float32, batch*64)
		rng := rand.New(rand.NewPCG(uint64(i), 11))
		for j := range raw {
			raw[j] = float32(rng.IntN(256))
		}
		reqs[i] = &inference.ModelInferRequest{ModelName: "digits", Inputs: []*inference.ModelInferRequest_InferInputTensor{
			{Name: "images", Datatype: "FP32", Shape: []int64{batch, 1, 8, 8}, Contents: &inference.InferTensorContents{Fp32Contents: raw}}}}
		preds, err := shadowModel.ClassifyPixels(context.Background(), raw, batch)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range preds {
			shadowLabels[i] = append(shadowLabels[i], p.Label)
		}
	}
	// differ counts the rows of an answer to input i whose label is not
	// the shadow version's.
	differ := func(i int, resp *inference.ModelInferResponse) (int64, error) {
		for _, o := range resp.Outputs {
			if o.Name != "label" {
				continue
			}
			got := o.Contents.GetIntContents()
			if len(got) != batch {
				return 0, fmt.Errorf("%d labels for %d examples", len(got), batch)
			}
			n := int64(0)
			for r, l := range got {
				if int(l) != shadowLabels[i][r] {
					n++
				}
			}
			return n, nil
		}
		return 0, fmt.Errorf("no label output in %v", resp.Outputs)
	}

	var counts [4]atomic.Int64
	var failed, disagree, next atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for {
				k := next.Add(1)
				if k > requests {
					return
				}
				i := int(k % inputs)
				resp, err := client.ModelInfer(authed, reqs[i])
				if err != nil || (resp.ModelVersion != "1" && resp.ModelVersion != "2") {
					t.Logf("call %d: %v", k, err)
					failed.Add(1)
					continue
				}
				n, err := differ(i, resp)
				if err != nil {
					t.Log(err)
					failed.Add(1)
					continue
				}
				disagree.Add(n)
				counts[resp.ModelVersion[0]-'0'].Add(1)
			}
		})
	}
	wg.Wait()
	share := float64(counts[2].Load()) / float64(requests)
	t.Logf("%d gRPC calls: version 1 %d, version 2 %d (%.2f%%), %d failed", requests, counts[1].Load(), counts[2].Load(), 100*share, failed.Load())
	if failed.Load() != 0 {
		t.Fatalf("%d calls failed", failed.Load())
	}
	if tol := max(0.02, 4*math.Sqrt(0.1*0.9/float64(requests))); math.Abs(share-0.1) > tol {
		t.Fatalf("version 2 got %.2f%% of the calls, want 10 ± %.1f", 100*share, 100*tol)
	}
	weighted2 := counts[2].Load()

	// Sticky: the metadata key of --sticky-header's name pins a user.
	users := map[string]string{}
	copied := requests
	for u := range 30 {
		user := fmt.Sprintf("user-%d", u)
		ctx := metadata.AppendToOutgoingContext(authed, "x-user", user)
		for k := range 5 {
			i := (u + k) % inputs
			resp, err := client.ModelInfer(ctx, reqs[i])
			if err != nil {
				t.Fatal(err)
			}
			if prev, ok := users[user]; ok && prev != resp.ModelVersion {
				t.Fatalf("%s went to version %s, then %s", user, prev, resp.ModelVersion)
			}
			users[user] = resp.ModelVersion
			n, err := differ(i, resp)
			if err != nil {
				t.Fatal(err)
			}
			disagree.Add(n)
			copied++
		}
	}
	perVersion := map[string]int{}
	for _, v := range users {
		perVersion[v]++
	}
	if perVersion["1"] == 0 || perVersion["2"] == 0 {
		t.Fatalf("30 users all went to one version: %v", perVersion)
	}

	// Neither split nor copied: a call naming a version, a call without
	// a token.
	named := proto.Clone(reqs[0]).(*inference.ModelInferRequest)
	named.ModelVersion = "2"
	if resp, err := client.ModelInfer(authed, named); err != nil || resp.ModelVersion != "2" {
		t.Fatalf("call naming version 2: %v %v", resp, err)
	}
	if _, err := client.ModelInfer(t.Context(), reqs[0]); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("call without a token: %v, want Unauthenticated", err)
	}

	// The copies run in the background: wait for all of them.
	var m []byte
	for range 1000 {
		_, m = do(t, "GET", ts.url+"/metrics", "")
		if metric(t, m, `tapeml_shadow_requests_total{model="digits",version="3"}`) >= float64(copied) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	shadowed := metric(t, m, `tapeml_shadow_requests_total{model="digits",version="3"}`)
	examples := metric(t, m, `tapeml_shadow_examples_total{model="digits",version="3"}`)
	got := metric(t, m, `tapeml_shadow_disagreements_total{model="digits",version="3"}`)
	t.Logf("shadow: %v copies, %v of %v examples disagree; direct count %d", shadowed, got, examples, disagree.Load())
	if shadowed != float64(copied) || examples != float64(copied*batch) {
		t.Fatalf("shadow answered %v copies of %v examples, want %d of %d", shadowed, examples, copied, copied*batch)
	}
	if got != float64(disagree.Load()) {
		t.Fatalf("shadow counted %v disagreements; direct comparison: %d", got, disagree.Load())
	}
	if d := disagree.Load(); d == 0 || d == copied*batch {
		t.Fatalf("the versions disagree with the shadow on %d of %d examples: the test needs some of each", d, copied*batch)
	}
	if got := metric(t, m, `tapeml_traffic_routed_total{mode="weighted",model="digits",version="2"}`); got != float64(weighted2) {
		t.Errorf("routed counter %v, version 2 answered %d weighted calls", got, weighted2)
	}
	for _, line := range strings.Split(string(m), "\n") {
		if strings.HasPrefix(line, `tapeml_shadow_skipped_total{model="digits"`) {
			t.Errorf("copies skipped: %s", line)
		}
	}
}
