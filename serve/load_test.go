//go:build loadtest

// The load test runs for about a minute, so it is behind the
// loadtest build tag:
//
//	go test -tags loadtest -run TestLoad -v -timeout 10m ./serve
//
// Flags -load.steady, -load.rounds, -load.reload, -load.clients and
// -load.workers change its length and concurrency. It talks to the server on 127.0.0.1 only; clients and
// server share the machine's cores.
package serve_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/tapeml/tapeml/serve"
	"github.com/tapeml/tapeml/serve/inference"
	"github.com/tapeml/tapeml/tapemltest"
)

var (
	loadSteady  = flag.Duration("load.steady", 4*time.Second, "length of each steady-state round")
	loadRounds  = flag.Int("load.rounds", 3, "steady-state rounds of each server, taking turns")
	loadReload  = flag.Duration("load.reload", 30*time.Second, "length of the phase with a new version every 2 s")
	loadClients = flag.Int("load.clients", 64, "concurrent clients")
	loadWorkers = flag.Int("load.workers", 0, "batches run at once (serve.Config.Workers)")
	loadSpeedup = flag.Float64("load.min-speedup", 3, "throughput of max-batch 32 over max-batch 1 the test requires (the issue's target)")
)

type loadStats struct {
	requests, failures int
	elapsed            time.Duration
	lat                []time.Duration
	versions           map[string]bool
	firstFailure       string
}

func (s loadStats) quantile(q float64) time.Duration {
	if len(s.lat) == 0 {
		return 0
	}
	return s.lat[min(len(s.lat)-1, int(q*float64(len(s.lat))))]
}

// record counts a request sent at t0 that ended with err, and reports
// whether it succeeded.
func (s *loadStats) record(t0 time.Time, err error) bool {
	s.requests++
	if err != nil {
		s.failures++
		if s.firstFailure == "" {
			s.firstFailure = err.Error()
		}
		return false
	}
	s.lat = append(s.lat, time.Since(t0))
	return true
}

// add adds one client's figures to s.
func (s *loadStats) add(c loadStats) {
	s.requests += c.requests
	s.failures += c.failures
	s.lat = append(s.lat, c.lat...)
	if s.firstFailure == "" {
		s.firstFailure = c.firstFailure
	}
	for v := range c.versions {
		s.versions[v] = true
	}
}

func (s loadStats) rate() float64 { return float64(s.requests) / s.elapsed.Seconds() }

func (s loadStats) String() string {
	return fmt.Sprintf("%d requests in %v: %.0f req/s, p50 %v, p99 %v, %d failed",
		s.requests, s.elapsed.Round(time.Millisecond), s.rate(), s.quantile(0.5).Round(10*time.Microsecond), s.quantile(0.99).Round(10*time.Microsecond), s.failures)
}

// drive sends one-text v2 inference requests from clients goroutines,
// each waiting for its answer before the next, for d.
func drive(url string, clients int, d time.Duration) loadStats {
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	body := textInfer("congratulations you have won a free prize call now to claim")
	var (
		mu    sync.Mutex
		total = loadStats{versions: map[string]bool{}}
		wg    sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for range clients {
		wg.Go(func() {
			mine := loadStats{versions: map[string]bool{}}
			for time.Now().Before(deadline) {
				t0 := time.Now()
				resp, err := client.Post(url+"/v2/models/textcnn/infer", "application/json", strings.NewReader(body))
				var b []byte
				if err == nil {
					b, err = io.ReadAll(resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("status %d: %s", resp.StatusCode, b)
					}
				}
				if !mine.record(t0, err) {
					continue
				}
				if i := strings.Index(string(b), `"model_version":"`); i >= 0 {
					v := string(b[i+17:])
					mine.versions[v[:strings.IndexByte(v, '"')]] = true
				}
			}
			mu.Lock()
			total.add(mine)
			mu.Unlock()
		})
	}
	wg.Wait()
	total.elapsed = time.Since(start)
	slices.Sort(total.lat)
	return total
}

// counters are sums over all versions of the server's metrics.
type counters struct {
	count, exec, queueSum, queueN, computeSum, computeN float64
}

func batchCounters(t *testing.T, url string) counters {
	_, body := do(t, "GET", url+"/metrics", "")
	var c counters
	for _, line := range strings.Split(string(body), "\n") {
		var v float64
		fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v)
		for _, m := range []struct {
			prefix string
			to     *float64
		}{
			{"tapeml_inference_count{", &c.count},
			{"tapeml_inference_exec_count{", &c.exec},
			{"tapeml_inference_queue_duration_seconds_sum{", &c.queueSum},
			{"tapeml_inference_queue_duration_seconds_count{", &c.queueN},
			{"tapeml_inference_compute_duration_seconds_sum{", &c.computeSum},
			{"tapeml_inference_compute_duration_seconds_count{", &c.computeN},
		} {
			if strings.HasPrefix(line, m.prefix) {
				*m.to += v
			}
		}
	}
	return c
}

func TestLoad(t *testing.T) {
	src, _, err := tapemltest.Save("textcnn", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	phase := func(name string, ts *testServer, d time.Duration) loadStats {
		c0 := batchCounters(t, ts.url)
		s := drive(ts.url, *loadClients, d)
		c1 := batchCounters(t, ts.url)
		exec := c1.exec - c0.exec
		t.Logf("%-24s %v; metrics: average batch %.1f (%.0f inferences / %.0f executions), mean queue %.2fms, mean compute %.2fms; versions served %v",
			name, s, (c1.count-c0.count)/exec, c1.count-c0.count, exec,
			1e3*(c1.queueSum-c0.queueSum)/(c1.queueN-c0.queueN), 1e3*(c1.computeSum-c0.computeSum)/(c1.computeN-c0.computeN),
			slices.Sorted(mapsKeys(s.versions)))
		if s.failures > 0 {
			t.Errorf("%s: %d failed requests, the first: %s", name, s.failures, s.firstFailure)
		}
		return s
	}
	newServer := func(maxBatch int, poll time.Duration) (*testServer, string) {
		repo := t.TempDir()
		copyDir(t, src, filepath.Join(repo, "textcnn", "1"))
		return start(t, serve.Config{Models: repo, MaxBatch: maxBatch, MaxDelay: 2 * time.Millisecond, Poll: poll, Workers: *loadWorkers, Logger: logger}), repo
	}

	// Steady state: the batched server (--max-batch 32 --max-delay 2ms)
	// and one with --max-batch 1 take turns, so that both meet the same
	// machine load; the machine is shared, and its load drifts.
	batched, repo := newServer(32, 500*time.Millisecond)
	single, _ := newServer(1, -1)
	var rates32, rates1 []float64
	var steady loadStats
	for r := range *loadRounds {
		s := phase(fmt.Sprintf("max-batch 32, round %d", r+1), batched, *loadSteady)
		rates32 = append(rates32, s.rate())
		steady.lat = append(steady.lat, s.lat...)
		s = phase(fmt.Sprintf("max-batch 1, round %d", r+1), single, *loadSteady)
		rates1 = append(rates1, s.rate())
	}
	single.stop(t)
	slices.Sort(steady.lat)
	slices.Sort(rates32)
	slices.Sort(rates1)
	ratio := rates32[len(rates32)/2] / rates1[len(rates1)/2]
	t.Logf("median throughput: max-batch 32 %.0f req/s, max-batch 1 %.0f req/s: %.2f× at %d clients", rates32[len(rates32)/2], rates1[len(rates1)/2], ratio, *loadClients)
	if ratio < *loadSpeedup {
		t.Errorf("batching gives %.2f× the throughput of batch 1 (want ≥ %g×)", ratio, *loadSpeedup)
	}

	// Reloads: a new version every 2 s, the oldest removed.
	ctx, stopReloads := context.WithCancel(context.Background())
	var added atomic.Int64
	reloads := make(chan struct{})
	go func() {
		defer close(reloads)
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for v := 2; ; v++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			// Versions appear atomically (copied aside, then renamed),
			// as a deployment should place them.
			tmp := filepath.Join(repo, "textcnn", fmt.Sprintf(".incoming-%d", v))
			copyDir(t, src, tmp)
			if err := os.Rename(tmp, filepath.Join(repo, "textcnn", fmt.Sprint(v))); err != nil {
				t.Error(err)
				return
			}
			os.RemoveAll(filepath.Join(repo, "textcnn", fmt.Sprint(v-2)))
			added.Add(1)
		}
	}()
	reloading := phase("max-batch 32, reloading", batched, *loadReload)
	stopReloads()
	<-reloads
	batched.stop(t)
	t.Logf("versions added during the reload phase: %d", added.Load())
	if len(reloading.versions) < 3 {
		t.Errorf("only versions %v answered during the reload phase", reloading.versions)
	}
	r := float64(reloading.quantile(0.99)) / float64(steady.quantile(0.99))
	t.Logf("p99: steady %v, during reloads %v: %.2f×", steady.quantile(0.99).Round(10*time.Microsecond), reloading.quantile(0.99).Round(10*time.Microsecond), r)
	if r > 1.5 {
		t.Errorf("p99 during reloads is %.2f× the steady state's (want ≤ 1.5×)", r)
	}
}

func mapsKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// driveGRPC is drive over gRPC: one connection per client, each sending
// one-text ModelInfer requests and waiting for the answer.
func driveGRPC(addr string, clients int, d time.Duration) loadStats {
	var (
		mu    sync.Mutex
		total = loadStats{versions: map[string]bool{}}
		wg    sync.WaitGroup
	)
	req := textRequest("textcnn", "", "congratulations you have won a free prize call now to claim")
	start := time.Now()
	deadline := start.Add(d)
	for range clients {
		wg.Go(func() {
			var mine loadStats
			conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				mine.failures, mine.firstFailure = 1, err.Error()
			} else {
				defer conn.Close()
				client := inference.NewGRPCInferenceServiceClient(conn)
				for time.Now().Before(deadline) {
					t0 := time.Now()
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					resp, err := client.ModelInfer(ctx, req)
					cancel()
					if err == nil && len(resp.Outputs) != 4 { // probabilities, label, class, known_tokens
						err = fmt.Errorf("%d outputs", len(resp.Outputs))
					}
					mine.record(t0, err)
				}
			}
			mu.Lock()
			total.add(mine)
			mu.Unlock()
		})
	}
	wg.Wait()
	total.elapsed = time.Since(start)
	slices.Sort(total.lat)
	return total
}

// TestLoadGRPC compares the two bindings of the Open Inference Protocol
// on one batched server (--max-batch 32 --max-delay 2ms): -load.clients
// clients send one text per request over REST and over gRPC, in
// alternating rounds of -load.steady.
//
//	go test -tags loadtest -run TestLoadGRPC -v -timeout 10m ./serve
func TestLoadGRPC(t *testing.T) {
	src, _, err := tapemltest.Save("textcnn", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	repo := t.TempDir()
	copyDir(t, src, filepath.Join(repo, "textcnn", "1"))
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ts := start(t, serve.Config{Models: repo, MaxBatch: 32, MaxDelay: 2 * time.Millisecond, Poll: -1, Workers: *loadWorkers, Logger: logger, MaxConcurrentRequests: 4 * *loadClients})
	var rest, grpcRates []float64
	for r := range *loadRounds {
		for _, p := range []struct {
			name  string
			rates *[]float64
			run   func() loadStats
		}{
			{"REST", &rest, func() loadStats { return drive(ts.url, *loadClients, *loadSteady) }},
			{"gRPC", &grpcRates, func() loadStats { return driveGRPC(ts.grpcAddr, *loadClients, *loadSteady) }},
		} {
			c0 := batchCounters(t, ts.url)
			s := p.run()
			c1 := batchCounters(t, ts.url)
			t.Logf("%-4s round %d: %v; average batch %.1f", p.name, r+1, s, (c1.count-c0.count)/(c1.exec-c0.exec))
			if s.failures > 0 {
				t.Errorf("%s: %d failed requests, the first: %s", p.name, s.failures, s.firstFailure)
			}
			*p.rates = append(*p.rates, s.rate())
		}
	}
	slices.Sort(rest)
	slices.Sort(grpcRates)
	mr, mg := rest[len(rest)/2], grpcRates[len(grpcRates)/2]
	t.Logf("median throughput at %d clients: REST %.0f req/s, gRPC %.0f req/s (gRPC/REST %.2f×)", *loadClients, mr, mg, mg/mr)
}
