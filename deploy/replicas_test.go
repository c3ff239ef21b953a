//go:build replicas

// The replica test runs for about a minute, so it is behind the replicas
// build tag (docs/replicas.md):
//
//	cd deploy && go test -tags replicas -run TestReplicas -v -timeout 15m .
//
// It needs Debian's haproxy (apt-get install -y haproxy). Every process
// listens on 127.0.0.1; clients, proxy and replicas share the machine's
// cores.
package deploy_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tapeml/tapeml/tapemltest"
)

var (
	replicasLoad    = flag.Duration("replicas.load", 30*time.Second, "length of the load")
	replicasClients = flag.Int("replicas.clients", 32, "concurrent clients, each waiting for its answer before the next request")
	replicasPoll    = flag.Duration("replicas.poll", 2*time.Second, "the replicas' --poll")
	replicasPublish = flag.Duration("replicas.publish", 5*time.Second, "when, into the load, version 2 appears in the repository")
	replicasKill    = flag.Duration("replicas.kill", 15*time.Second, "when, into the load, replica 1 is killed with SIGKILL")
	replicasRestart = flag.Duration("replicas.restart", 20*time.Second, "when, into the load, replica 1 is started again")
	replicasAnchor  = flag.Duration("replicas.anchor", 5*time.Second, "length of the anchor: the same load sent to one replica directly, before the proxy")
	replicasRetryOn = flag.String("replicas.retry-on", "conn-failure empty-response", "HAProxy's retry-on (try conn-failure alone: the requests in flight on the killed replica fail)")
)

const replicaModel = "textcnn"

// freePorts reserves n loopback ports and releases them for the
// processes to take.
func freePorts(t *testing.T, n int) []int {
	var lns []net.Listener
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

// copyFlat copies a checkpoint folder (flat files) to dst.
func copyFlat(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const haproxyConfig = `# tapeml serve replicas behind HAProxy (written by deploy/replicas_test.go)
global
    maxconn 4096

defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout check 1s
    # A request whose connection to a replica fails (refused: the replica
    # is down and not yet marked so), or that gets no answer at all (the
    # replica died with the request in flight), is sent again, to another
    # replica (redispatch on every retry). Inference is idempotent. The
    # body is buffered first, so that it can be sent again.
    retries 3
    retry-on %s
    option redispatch 1
    option http-buffer-request

frontend inference
    bind 127.0.0.1:%d
    default_backend replicas

backend replicas
    balance roundrobin
    option httpchk GET /v2/health/ready
    http-check expect status 200
    default-server check inter 500ms fastinter 200ms downinter 500ms fall 2 rise 2
%s
listen stats
    bind 127.0.0.1:%d
    stats enable
    stats uri /stats
`

// haproxyStats is the backend's and servers' rows of HAProxy's CSV
// statistics, by server name (BACKEND for the backend), by column.
func haproxyStats(url string) (map[string]map[string]string, error) {
	resp, err := http.Get(url + "/stats;csv")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(b), "# ")))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) < 2 {
		return nil, fmt.Errorf("HAProxy stats: %v: %.200s", err, b)
	}
	out := map[string]map[string]string{}
	for _, row := range rows[1:] {
		if len(row) < 2 || row[0] != "replicas" {
			continue
		}
		m := map[string]string{}
		for i, h := range rows[0] {
			if i < len(row) {
				m[h] = row[i]
			}
		}
		out[row[1]] = m
	}
	return out, nil
}

// sample is one client request.
type sample struct {
	at      time.Duration // since the load started
	latency time.Duration
	version string // the model version that answered
	err     error
}

// loadReplicas sends one-text inference requests to url from clients
// goroutines for d, and returns every request in the order they ended.
func loadReplicas(ctx context.Context, url string, clients int, d time.Duration) []sample {
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	body, _ := json.Marshal(map[string]any{"inputs": []any{map[string]any{
		"name": "text", "datatype": "BYTES", "shape": []int{1},
		"data": []string{"congratulations you have won a free prize call now to claim"}}}})
	var (
		mu  sync.Mutex
		all []sample
		wg  sync.WaitGroup
	)
	start := time.Now()
	for range clients {
		wg.Go(func() {
			var mine []sample
			// Bounded in time, and in count as a guard.
			for i := 0; i < 1_000_000 && time.Since(start) < d && ctx.Err() == nil; i++ {
				t0 := time.Now()
				s := sample{}
				resp, err := client.Post(url+"/v2/models/"+replicaModel+"/infer", "application/json", strings.NewReader(string(body)))
				if err == nil {
					var b []byte
					b, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
					resp.Body.Close()
					var r struct {
						Version string `json:"model_version"`
					}
					switch {
					case err != nil:
					case resp.StatusCode != http.StatusOK:
						err = fmt.Errorf("status %d: %.200s", resp.StatusCode, b)
					default:
						if err = json.Unmarshal(b, &r); err == nil {
							s.version = r.Version
						}
					}
				}
				s.at, s.latency, s.err = time.Since(start), time.Since(t0), err
				mine = append(mine, s)
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.SortFunc(all, func(a, b sample) int { return int(a.at - b.at) })
	return all
}

// quantiles are the p50, p99 and largest latency of the successful
// samples in [from, to).
func quantiles(samples []sample, from, to time.Duration) (n int, p50, p99, worst time.Duration) {
	var lat []time.Duration
	for _, s := range samples {
		if s.err == nil && s.at >= from && s.at < to {
			lat = append(lat, s.latency)
		}
	}
	if len(lat) == 0 {
		return 0, 0, 0, 0
	}
	slices.Sort(lat)
	q := func(f float64) time.Duration { return lat[min(len(lat)-1, int(f*float64(len(lat))))] }
	return len(lat), q(0.5), q(0.99), lat[len(lat)-1]
}

// servedVersions is what GET /v2/models/NAME answers on one replica.
func servedVersions(client *http.Client, url string) ([]string, error) {
	code, b, err := get(client, url+"/v2/models/"+replicaModel)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("status %d: %s", code, b)
	}
	var md struct {
		Versions []string `json:"versions"`
	}
	return md.Versions, json.Unmarshal(b, &md)
}

// http200 is the replica's tapeml_http_requests_total{code="200"}.
func http200(client *http.Client, url string) (float64, error) {
	_, b, err := get(client, url+"/metrics")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, `tapeml_http_requests_total{code="200"} `); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, fmt.Errorf("no tapeml_http_requests_total{code=\"200\"} in /metrics")
}

func TestReplicasBehindHAProxy(t *testing.T) {
	haproxyBin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Fatal("haproxy not found: apt-get install -y haproxy")
	}
	bin := tapemlBinary(t)
	tmp := t.TempDir()
	src, _, err := tapemltest.Save(replicaModel, filepath.Join(tmp, "src"))
	if err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(tmp, "repo")
	copyFlat(t, src, filepath.Join(repo, replicaModel, "1"))

	ports := freePorts(t, 5) // 3 replicas, the proxy's front end, its statistics
	args := func(i int) []string {
		return []string{"serve", "--models", repo, "--addr", fmt.Sprintf("127.0.0.1:%d", ports[i]), "--poll", replicasPoll.String()}
	}
	replicas := make([]*server, 3)
	t.Cleanup(func() {
		for _, r := range replicas {
			if r != nil {
				r.kill()
			}
		}
	})
	for i := range replicas {
		if replicas[i], err = startServer(bin, args(i)); err != nil {
			t.Fatal(err)
		}
	}

	var servers strings.Builder
	for i := range replicas {
		fmt.Fprintf(&servers, "    server r%d 127.0.0.1:%d\n", i, ports[i])
	}
	cfg := filepath.Join(tmp, "haproxy.cfg")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, haproxyConfig, *replicasRetryOn, ports[3], servers.String(), ports[4]), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(haproxyBin, "-c", "-f", cfg).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s", err, out)
	}
	proxy := exec.Command(haproxyBin, "-db", "-f", cfg)
	proxyOut := &lockedBuffer{}
	proxy.Stdout, proxy.Stderr = proxyOut, proxyOut
	if err := proxy.Start(); err != nil {
		t.Fatal(err)
	}
	proxyDone := make(chan error, 1)
	go func() { proxyDone <- proxy.Wait() }()
	t.Cleanup(func() {
		proxy.Process.Signal(syscall.SIGTERM)
		select {
		case <-proxyDone:
		case <-time.After(10 * time.Second):
			proxy.Process.Kill()
			<-proxyDone
		}
	})
	lb := fmt.Sprintf("http://127.0.0.1:%d", ports[3])
	stats := fmt.Sprintf("http://127.0.0.1:%d", ports[4])
	client := &http.Client{Timeout: 5 * time.Second}
	// Wait until HAProxy's checks see all three replicas up.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		st, err := haproxyStats(stats)
		up := 0
		for i := range replicas {
			if err == nil && st[fmt.Sprintf("r%d", i)]["status"] == "UP" {
				up++
			}
		}
		if up == len(replicas) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("HAProxy: %d of %d replicas up after 30 s (%v)\n%s", up, len(replicas), err, proxyOut.String())
		}
	}
	before, err := haproxyStats(stats)
	if err != nil {
		t.Fatal(err)
	}

	// The anchor: the same clients sent to one replica directly, no proxy.
	anchor := loadReplicas(context.Background(), replicas[0].url(), *replicasClients, *replicasAnchor)
	an, ap50, ap99, _ := quantiles(anchor, 0, *replicasAnchor+time.Minute)
	anchorRate := float64(an) / replicasAnchor.Seconds()
	t.Logf("anchor: %d clients for %v straight to replica 0: %.0f req/s, p50 %v, p99 %v, %d failed",
		*replicasClients, replicasAnchor, anchorRate, ap50.Round(100*time.Microsecond), ap99.Round(100*time.Microsecond), len(anchor)-an)

	// The load, and meanwhile the events.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	loadDone := make(chan []sample, 1)
	start := time.Now()
	go func() { loadDone <- loadReplicas(ctx, lb, *replicasClients, *replicasLoad) }()
	at := func(d time.Duration) { time.Sleep(time.Until(start.Add(d))) }

	// Version 2 appears atomically: copied to a hidden folder, renamed.
	at(*replicasPublish)
	incoming := filepath.Join(repo, replicaModel, ".incoming-2")
	copyFlat(t, src, incoming)
	if err := os.Rename(incoming, filepath.Join(repo, replicaModel, "2")); err != nil {
		t.Fatal(err)
	}
	published := time.Now()
	// Each replica, asked directly, until it serves version 2.
	pickedUp := make([]time.Duration, len(replicas))
	var watch sync.WaitGroup
	for i, r := range replicas {
		watch.Go(func() {
			for time.Since(published) < 60*time.Second {
				if v, err := servedVersions(client, r.url()); err == nil && slices.Contains(v, "2") {
					pickedUp[i] = time.Since(published)
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
			pickedUp[i] = -1
		})
	}
	watch.Wait()
	loads := make([]time.Duration, len(replicas))
	loaded := make([]bool, len(replicas))
	for i, r := range replicas {
		loads[i], loaded[i] = r.loadTime(replicaModel, 2)
	}

	at(*replicasKill)
	killed := time.Since(start)
	replicas[1].kill()
	at(*replicasRestart)
	restartedAt := time.Since(start)
	if replicas[1], err = startServer(bin, args(1)); err != nil {
		t.Fatal(err)
	}
	ready := time.Since(start)
	samples := <-loadDone
	elapsed := time.Since(start)

	// Figures.
	failed := 0
	versions := map[string]int{}
	var firstFailures []string
	for _, s := range samples {
		if s.err != nil {
			failed++
			if len(firstFailures) < 5 {
				firstFailures = append(firstFailures, fmt.Sprintf("at %v: %v", s.at.Round(time.Millisecond), s.err))
			}
			continue
		}
		versions[s.version]++
	}
	n, p50, p99, worst := quantiles(samples, 0, elapsed)
	t.Logf("load: %d clients for %v through HAProxy to 3 replicas (--poll %v): %d requests, %.0f req/s, p50 %v, p99 %v, max %v, %d failed; answered by version: %v",
		*replicasClients, replicasLoad, *replicasPoll, len(samples), float64(n)/elapsed.Seconds(), p50.Round(100*time.Microsecond), p99.Round(100*time.Microsecond), worst.Round(time.Millisecond), failed, versions)
	t.Logf("throughput through the proxy to 3 replicas: %.2f× one replica's straight (the anchor), p99 %.2f×",
		float64(n)/elapsed.Seconds()/anchorRate, float64(p99)/float64(ap99))
	for _, w := range []struct {
		name     string
		from, to time.Duration
	}{
		{"before version 2", 0, *replicasPublish},
		{"version 2 loading", *replicasPublish, *replicasPublish + slices.Max(pickedUp)},
		{"replica 1 killed, 2 replicas", killed, restartedAt},
		{"replica 1 restarting and back", restartedAt, elapsed},
	} {
		n, p50, p99, worst := quantiles(samples, w.from, w.to)
		if w.to > w.from {
			t.Logf("  %-30s [%5.1fs, %5.1fs): %6d requests, %5.0f req/s, p50 %v, p99 %v, max %v", w.name, w.from.Seconds(), w.to.Seconds(), n, float64(n)/(w.to-w.from).Seconds(),
				p50.Round(100*time.Microsecond), p99.Round(100*time.Microsecond), worst.Round(time.Millisecond))
		}
	}
	t.Logf("replica 1: killed at %.1fs, started again at %.1fs, listening (version 2 loaded) at %.1fs", killed.Seconds(), restartedAt.Seconds(), ready.Seconds())

	// Acceptance: no failed client request.
	if failed > 0 {
		t.Errorf("%d of %d requests failed; the first: %q", failed, len(samples), firstFailures)
	}
	// Acceptance: every replica serves version 2 within its poll interval
	// — at its first repository scan after the version appeared, plus the
	// time it took to load and warm up (logged by the replica).
	for i, d := range pickedUp {
		load, ok := loads[i], loaded[i]
		switch {
		case d < 0:
			t.Errorf("replica %d: not serving version 2 60 s after it appeared", i)
		case !ok:
			t.Errorf("replica %d: serves version 2 after %v, but logged no load of it", i, d)
		default:
			t.Logf("replica %d: serves version 2 %v after it appeared (poll %v; that load and warm-up: %v)", i, d.Round(time.Millisecond), *replicasPoll, load)
			if d > *replicasPoll+load+250*time.Millisecond {
				t.Errorf("replica %d: serves version 2 %v after it appeared: more than the poll interval %v plus its load %v", i, d, *replicasPoll, load)
			}
		}
	}
	// After the load every replica, the restarted one too, serves version
	// 2 alone, and the restarted one took traffic from the proxy again.
	for i, r := range replicas {
		if v, err := servedVersions(client, r.url()); err != nil || !slices.Equal(v, []string{"2"}) {
			t.Errorf("replica %d: versions %v %v, want [2]", i, v, err)
		}
	}
	if c, err := http200(client, replicas[1].url()); err != nil || c < 100 {
		t.Errorf("restarted replica 1: %v answers 200 (%v): HAProxy did not send it traffic again", c, err)
	} else {
		t.Logf("restarted replica 1 answered %.0f requests with 200 (inference, probes and checks)", c)
	}
	after, err := haproxyStats(stats)
	if err != nil {
		t.Fatal(err)
	}
	delta := func(server, col string) int {
		a, _ := strconv.Atoi(after[server][col])
		b, _ := strconv.Atoi(before[server][col])
		return a - b
	}
	t.Logf("HAProxy: %d retries, %d redispatches, %d connection errors, %d response errors; requests per replica %d / %d / %d",
		delta("BACKEND", "wretr"), delta("BACKEND", "wredis"), delta("BACKEND", "econ"), delta("BACKEND", "eresp"),
		delta("r0", "stot"), delta("r1", "stot"), delta("r2", "stot"))

	// Graceful shutdown of the survivors.
	for i, r := range replicas {
		if err := r.stop(); err != nil {
			t.Errorf("replica %d: graceful stop: %v", i, err)
		}
		replicas[i] = nil
	}
}

// lockedBuffer collects a process's output from its goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
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
