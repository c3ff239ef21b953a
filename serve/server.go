package serve

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"gocloud.dev/blob"
	"google.golang.org/grpc"

	"github.com/tapeml/tapeml/graph"
	_ "github.com/tapeml/tapeml/models/all" // a repository may hold any built-in kind
)

// Config configures a Server. Zero fields take the defaults of
// `tapeml serve`.
type Config struct {
	Models   string        // the model repository (required)
	MaxBatch int           // largest merged batch, and the chunk long requests are cut into (default 32)
	MaxDelay time.Duration // longest a request waits for others to join its batch (0: only those already queued)
	Poll     time.Duration // repository poll interval (default 2s; negative: never)
	MaxBody  int64         // request body limit in bytes, REST and gRPC (default 8 MiB)
	Workers  int           // batches run at once per model version (default GOMAXPROCS)

	// Limits bound each request's work before it starts (default
	// DefaultLimits).
	Limits Limits
	// MaxConnections caps the open connections of each listener (default
	// 1024). Beyond it the longest idle connection is closed to make room,
	// or, when none is idle, the new connection is closed at once, so
	// that idle keep-alive connections cannot exhaust file descriptors.
	MaxConnections int
	// MaxConcurrentRequests caps the inference and explain requests in
	// flight per model (default 64); beyond it a request is answered 503
	// with Retry-After (gRPC: RESOURCE_EXHAUSTED).
	MaxConcurrentRequests int

	ReadTimeout     time.Duration // whole request read, headers within min(10s, this) (default 30s)
	WriteTimeout    time.Duration // from request read to response written; a request's work is cancelled then (default 60s)
	IdleTimeout     time.Duration // keep-alive connection idle (default 120s)
	ShutdownTimeout time.Duration // longest graceful shutdown waits; work still running is then cancelled (default DefaultShutdownTimeout)

	// AuthTokens, when not empty, are the bearer tokens that every
	// request must carry ("Authorization: Bearer TOKEN", REST and gRPC),
	// compared in constant time. The web page and /openapi.json stay
	// open; health and metrics too when OpenHealth is set.
	AuthTokens []string
	OpenHealth bool
	// CORSOrigins are the origins ("https://app.example.com", or "*" for
	// any) whose pages may call the API. A request from any other
	// foreign origin is refused, and a POST body must be JSON, so that a
	// web page cannot drive the server cross-site.
	CORSOrigins []string
	// TLSCert and TLSKey are PEM files: with them the server speaks HTTPS
	// and gRPC over TLS.
	TLSCert, TLSKey string

	// KernelThreads caps the goroutines one kernel call uses, process-wide
	// (graph.SetMaxThreads). Default 1: the server runs a batch per core
	// at once, and under a load of requests a kernel's fork-join waits
	// behind the request goroutines — batches of 32 ran 8× slower with
	// the kernels split over both cores (serve/load_test.go). Negative:
	// GOMAXPROCS.
	KernelThreads int

	// StickyHeader names a request header (X-User, say) whose value
	// routes a model's traffic split: the same value goes to the same
	// version. Empty: requests are split at random by weight.
	StickyHeader string
	// ShadowConcurrency bounds the shadow copies running at once; copies
	// beyond are skipped and counted (default 2×Workers).
	ShadowConcurrency int
	// FollowExternalLinks serves model and version folders that are
	// symbolic links to folders outside the repository; links inside it
	// are always followed.
	FollowExternalLinks bool

	// Bucket, when set, is the object store Models names (tests and
	// programs that open their buckets themselves); otherwise an object
	// store URL in Models is opened with gocloud.dev/blob, whose driver
	// the program links. CacheDir is where its versions are downloaded
	// (default: a new temporary folder, removed at the end), and
	// MaxVersionBytes the largest version downloaded (default 8 GiB).
	Bucket          *blob.Bucket
	CacheDir        string
	MaxVersionBytes int64

	Logger *slog.Logger // default slog.Default()
}

// DefaultShutdownTimeout is how long a graceful shutdown waits for the
// requests in flight by default; a deployment's grace period must exceed
// it (deploy/kubernetes checks that it does).
const DefaultShutdownTimeout = 30 * time.Second

// cancelGrace is how long cancelled requests have to answer after the
// shutdown timeout before their connections are closed: a runtime batch
// or an attribution pass ends within it.
const cancelGrace = 500 * time.Millisecond

func (c Config) withDefaults() Config {
	if c.MaxBatch == 0 {
		c.MaxBatch = 32
	}
	if c.Poll == 0 {
		c.Poll = 2 * time.Second
	}
	if c.MaxBody == 0 {
		c.MaxBody = 8 << 20
	}
	c.Limits = c.Limits.withDefaults()
	if c.MaxConnections == 0 {
		c.MaxConnections = 1024
	}
	if c.MaxConcurrentRequests == 0 {
		c.MaxConcurrentRequests = 64
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = 30 * time.Second
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 60 * time.Second
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 120 * time.Second
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.KernelThreads == 0 {
		c.KernelThreads = 1
	}
	if c.MaxVersionBytes == 0 {
		c.MaxVersionBytes = 8 << 30
	}
	if c.ShadowConcurrency == 0 {
		c.ShadowConcurrency = 2 * max(c.Workers, runtime.GOMAXPROCS(0))
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.Models == "":
		return fmt.Errorf("serve: no model repository given")
	case c.MaxBatch < 1 || c.MaxDelay < 0 || c.MaxBody < 1:
		return fmt.Errorf("serve: max batch %d, max delay %v, max body %d: want positive values", c.MaxBatch, c.MaxDelay, c.MaxBody)
	case c.MaxConnections < 1 || c.MaxConcurrentRequests < 1:
		return fmt.Errorf("serve: max connections %d, max concurrent requests %d: want positive values", c.MaxConnections, c.MaxConcurrentRequests)
	case c.ReadTimeout < 0 || c.WriteTimeout < 0 || c.IdleTimeout < 0 || c.ShutdownTimeout < 0:
		return fmt.Errorf("serve: timeouts must not be negative")
	case (c.TLSCert == "") != (c.TLSKey == ""):
		return fmt.Errorf("serve: TLS needs both a certificate and a key")
	}
	for _, t := range c.AuthTokens {
		if len(t) < 16 || strings.ContainsAny(t, " \t\r\n") {
			return fmt.Errorf("serve: an auth token must be at least 16 characters, without spaces")
		}
	}
	for _, o := range c.CORSOrigins {
		if o != "*" && !validOrigin(o) {
			return fmt.Errorf("serve: CORS origin %q: want scheme://host[:port], or *", o)
		}
	}
	return c.Limits.validate()
}

// Version is the server version reported by GET /v2.
var Version = func() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "devel"
}()

// Server serves a model repository over HTTP and gRPC.
type Server struct {
	cfg      Config
	man      *Manager
	met      *metrics
	log      *slog.Logger
	handler  http.Handler
	auth     *tokens
	tls      *tls.Config
	gate     gate
	stopping atomic.Bool

	routing     *routingMetrics
	shadowSlots chan struct{} // one token per shadow copy running
	// shadowCtx is the parent of shadow copies' contexts: they outlive
	// their requests, and shutdown cancels them with stopShadows.
	shadowCtx   context.Context
	stopShadows context.CancelFunc
	cleanup     func() // removes a temporary object-store cache
}

// New loads the repository's models (failed versions are reported, not
// fatal) and returns a server ready to Serve.
func New(ctx context.Context, cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, met: newMetrics(), log: cfg.Logger, auth: newTokens(cfg.AuthTokens), gate: gate{max: cfg.MaxConcurrentRequests}}
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("serve: TLS: %w", err)
		}
		s.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	}
	graph.SetMaxThreads(cfg.KernelThreads)
	s.shadowSlots = make(chan struct{}, max(cfg.ShadowConcurrency, 1))
	s.shadowCtx, s.stopShadows = context.WithCancel(context.Background())
	s.routing = newRoutingMetrics(s.met.reg)
	dir := cfg.Models
	var mir *mirror
	if cfg.Bucket != nil || IsObjectStore(cfg.Models) {
		bucket, prefix := cfg.Bucket, ""
		if bucket == nil {
			var err error
			if bucket, prefix, err = openStore(ctx, cfg.Models); err != nil {
				return nil, err
			}
		}
		if dir = cfg.CacheDir; dir == "" {
			var err error
			if dir, err = os.MkdirTemp("", "tapeml-models-"); err != nil {
				return nil, err
			}
			s.cleanup = func() { os.RemoveAll(dir) }
		}
		mir = newMirror(bucket, prefix, dir, cfg.MaxVersionBytes, cfg.Logger)
	}
	s.man = newManager(dir, ManagerOptions{MaxBatch: cfg.MaxBatch, MaxDelay: cfg.MaxDelay, Workers: cfg.Workers, Logger: cfg.Logger, FollowExternalLinks: cfg.FollowExternalLinks}, s.met)
	s.man.routing = s.routing
	s.man.mirror = mir
	if err := s.man.Reload(ctx); err != nil {
		s.stopShadows()
		if s.cleanup != nil {
			s.cleanup()
		}
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/health/live", s.v2Live)
	mux.HandleFunc("GET /v2/health/ready", s.v2Ready)
	mux.HandleFunc("GET /v2", s.v2Server)
	mux.HandleFunc("POST /v2/repository/index", s.v2Index)
	mux.HandleFunc("GET /v2/models/{name}", s.v2Model)
	mux.HandleFunc("GET /v2/models/{name}/versions/{v}", s.v2Model)
	mux.HandleFunc("GET /v2/models/{name}/ready", s.v2ModelReady)
	mux.HandleFunc("GET /v2/models/{name}/versions/{v}/ready", s.v2ModelReady)
	mux.HandleFunc("POST /v2/models/{name}/infer", s.v2Infer)
	mux.HandleFunc("POST /v2/models/{name}/versions/{v}/infer", s.v2Infer)
	mux.HandleFunc("POST /v2/models/{name}/explain", s.v2Explain)
	mux.HandleFunc("POST /v2/models/{name}/versions/{v}/explain", s.v2Explain)
	mux.HandleFunc("/v1/models/", s.v1)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.met.reg, promhttp.HandlerOpts{Registry: s.met.reg}))
	mux.HandleFunc("GET /openapi.json", s.openAPI)
	mux.HandleFunc("GET /{$}", s.webPage)
	mux.HandleFunc("GET /static/", s.webStatic)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errorf(http.StatusNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path))
	})
	return s.limits(s.guard(mux))
}

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// limits gives every request an id and a deadline, bounds its body,
// counts its answer and logs failures.
func (s *Server) limits(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := requestIDOf(r.Header.Get("X-Request-Id"))
		w.Header().Set("X-Request-Id", id)
		// The work stops when its answer could no longer be written.
		ctx, cancel := context.WithTimeout(withRequestID(r.Context(), id), s.cfg.WriteTimeout)
		defer cancel()
		r = r.WithContext(ctx)
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		defer func() {
			code := sw.code
			if code == 0 {
				code = http.StatusOK
			}
			s.met.http.WithLabelValues(fmt.Sprint(code)).Inc()
			lvl := slog.LevelDebug
			if code >= 500 {
				lvl = slog.LevelWarn
			}
			s.log.Log(r.Context(), lvl, "request", "id", id, "method", r.Method, "path", r.URL.Path, "status", code, "duration", time.Since(start).String())
		}()
		if r.ContentLength > s.cfg.MaxBody {
			s.writeError(sw, r, errorf(http.StatusRequestEntityTooLarge, "request body of %d bytes, limit %d", r.ContentLength, s.cfg.MaxBody))
			return
		}
		r.Body = http.MaxBytesReader(sw, r.Body, s.cfg.MaxBody)
		next.ServeHTTP(sw, r)
	})
}

// Handler is the server's HTTP handler, for tests and embedding.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) isReady() bool { return !s.stopping.Load() && s.man.ready.Load() }

// Summary is a one-line description of the models being served.
func (s *Server) Summary() string {
	snap := s.man.snap.Load()
	var parts []string
	versions := 0
	for _, name := range snap.names {
		ms := snap.models[name]
		var vs []string
		for _, n := range ms.order {
			vs = append(vs, fmt.Sprint(n))
		}
		kind := "?"
		if len(ms.order) > 0 {
			kind = ms.versions[ms.order[0]].m.Kind()
		}
		s := fmt.Sprintf("%s (%s v%s)", name, kind, strings.Join(vs, ","))
		if len(ms.failed) > 0 {
			s += fmt.Sprintf(" [%d failed]", len(ms.failed))
		}
		versions += len(ms.order)
		parts = append(parts, s)
	}
	return fmt.Sprintf("%d models, %d versions: %s", len(parts), versions, strings.Join(parts, "; "))
}

// Serve answers HTTP requests on ln and polls the repository until ctx
// ends, then shuts down gracefully (see ServeGRPC).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return s.ServeGRPC(ctx, ln, nil)
}

// ServeGRPC answers HTTP requests on ln and, if grpcLn is not nil, the
// Open Inference Protocol's gRPC service on grpcLn, and polls the
// repository, until ctx ends. It then shuts down gracefully: it stops
// accepting connections and lets the requests in flight finish for up to
// ShutdownTimeout, cancels those still running, releases the models and
// returns nil.
func (s *Server) ServeGRPC(ctx context.Context, ln, grpcLn net.Listener) error {
	// Requests' contexts derive from work: cancelling it stops them all.
	work, cancelWork := context.WithCancel(context.Background())
	defer cancelWork()
	limited := newConnLimiter(ln, s.cfg.MaxConnections, s.met, "http")
	var hln net.Listener = limited
	if s.tls != nil {
		hln = tls.NewListener(limited, s.tls)
	}
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: min(10*time.Second, s.cfg.ReadTimeout),
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return work },
		ConnState:         limited.track,
	}
	var gs *grpc.Server
	if grpcLn != nil {
		gs = s.newGRPCServer()
	}
	pollCtx, stopPoll := context.WithCancel(context.Background())
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		if s.cfg.Poll > 0 {
			s.man.Poll(pollCtx, s.cfg.Poll)
		}
	}()
	served := make(chan error, 2)
	go func() { served <- hs.Serve(hln) }()
	if gs != nil {
		go func() { served <- gs.Serve(newConnLimiter(grpcLn, s.cfg.MaxConnections, s.met, "grpc")) }()
	}

	var err error
	select {
	case <-ctx.Done():
	case err = <-served:
	}
	s.stopping.Store(true)
	stopPoll() // a reload under way stops at its next step
	s.log.Info("shutting down", "addr", ln.Addr().String(), "timeout", s.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		if e := hs.Shutdown(sctx); e != nil {
			// Past the timeout: cancel what still runs, give the handlers
			// a moment to answer (503), and close.
			s.log.Warn("shutdown timeout: cancelling the requests still running")
			cancelWork()
			grace, cancel := context.WithTimeout(context.Background(), cancelGrace)
			defer cancel()
			if hs.Shutdown(grace) != nil {
				hs.Close()
			}
		}
	})
	if gs != nil {
		wg.Go(func() {
			done := make(chan struct{})
			go func() { gs.GracefulStop(); close(done) }()
			select {
			case <-done:
			case <-sctx.Done():
				gs.Stop()
				<-done
			}
		})
	}
	wg.Wait()
	cancelWork()
	s.stopShadows() // shadow copies still running are cancelled too, so that Close need not wait for them
	<-polled
	s.man.Close()
	if s.cleanup != nil {
		s.cleanup()
	}
	if errors.Is(err, http.ErrServerClosed) || errors.Is(err, grpc.ErrServerStopped) {
		err = nil
	}
	return err
}

// Reload rescans the repository now (the poller does so every Poll).
func (s *Server) Reload(ctx context.Context) error { return s.man.Reload(ctx) }

func (s *Server) writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	if code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	w.WriteHeader(code)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		s.log.Debug("writing a response", "err", err)
	}
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, body := s.errorBody(r.Context(), err)
	s.writeJSON(w, code, body)
}

// failedBeforeHold counts a request that failed before its version was
// held (a malformed body) against that version, when it names one.
func (s *Server) failedBeforeHold(name string, sel selector, err error, start time.Time) {
	if v, e := s.man.lookup(s.man.snap.Load(), name, sel); e == nil {
		s.met.answered(v.model, v.num, statusOf(err), time.Since(start))
	}
}

// gate counts the inference requests in flight per model.
type gate struct {
	max int
	mu  sync.Mutex
	n   map[string]int
}

// enter admits a request to model name, or refuses it (503) when the
// model has max requests in flight; leave must follow an admission.
func (g *gate) enter(name string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.n == nil {
		g.n = map[string]int{}
	}
	if g.n[name] >= g.max {
		return errorf(http.StatusServiceUnavailable, "model %q has %d requests in flight, the server's limit (max-concurrent-requests); retry later", name, g.max)
	}
	g.n[name]++
	return nil
}

func (g *gate) leave(name string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.n[name]--; g.n[name] <= 0 {
		delete(g.n, name)
	}
}
