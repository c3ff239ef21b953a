package serve

import (
	"os"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"gocloud.dev/blob"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tapeml/tapeml/graph"
	_ "github.com/tapeml/tapeml/models/all" // a repository may hold any built-in kind
)

// Config configures a Server. Zero fields take the defaults of
// `tapeml serve`.
type Config struct {
	Models   string        // the model repository (required)
	MaxBatch int           // largest merged batch (default 32)
	MaxDelay time.Duration // longest a request waits for others to join its batch (0: only those already queued)
	Poll     time.Duration // repository poll interval (default 2s; negative: never)
	MaxBody  int64         // request body limit in bytes (default 8 MiB)
	Workers  int           // batches run at once per model version (default GOMAXPROCS)

	ReadTimeout     time.Duration // whole request read (default 30s)
	WriteTimeout    time.Duration // from request read to response written (default 60s)
	IdleTimeout     time.Duration // keep-alive (default 120s)
	ShutdownTimeout time.Duration // longest graceful shutdown waits for requests (default DefaultShutdownTimeout)

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

// Version is the server version reported by GET /v2.
var Version = func() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "devel"
}()

// Server serves a model repository over HTTP.
type Server struct {
	cfg      Config
	man      *Manager
	met      *metrics
	log      *slog.Logger
	handler  http.Handler
	stopping atomic.Bool

	routing     *routingMetrics
	shadowSlots chan struct{} // one token per shadow copy running
	cleanup     func()        // removes a temporary object-store cache
}

// New loads the repository's models (failed versions are reported, not
// fatal) and returns a server ready to Serve.
func New(ctx context.Context, cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if cfg.Models == "" {
		return nil, fmt.Errorf("serve: no model repository given")
	}
	if cfg.MaxBatch < 1 || cfg.MaxDelay < 0 || cfg.MaxBody < 1 {
		return nil, fmt.Errorf("serve: max batch %d, max delay %v, max body %d: want positive values", cfg.MaxBatch, cfg.MaxDelay, cfg.MaxBody)
	}
	graph.SetMaxThreads(cfg.KernelThreads)
	s := &Server{cfg: cfg, met: newMetrics(), log: cfg.Logger, shadowSlots: make(chan struct{}, max(cfg.ShadowConcurrency, 1))}
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
	mux.HandleFunc("GET /{$}", s.webPage)
	mux.HandleFunc("GET /static/", s.webStatic)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, errorf(http.StatusNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path))
	})
	return s.limits(mux)
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

// limits bounds every request body, counts answers and logs failures.
func (s *Server) limits(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
			s.log.Log(r.Context(), lvl, "request", "method", r.Method, "path", r.URL.Path, "status", code, "duration", time.Since(start).String())
		}()
		if r.ContentLength > s.cfg.MaxBody {
			s.writeError(sw, errorf(http.StatusRequestEntityTooLarge, "request body of %d bytes, limit %d", r.ContentLength, s.cfg.MaxBody))
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

// Serve answers requests on ln and polls the repository until ctx ends,
// then shuts down gracefully: it stops accepting connections, lets the
// requests in flight finish (up to ShutdownTimeout), releases the models
// and returns nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: min(10*time.Second, s.cfg.ReadTimeout),
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	pollCtx, stopPoll := context.WithCancel(context.Background())
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		if s.cfg.Poll > 0 {
			s.man.Poll(pollCtx, s.cfg.Poll)
		}
	}()
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	var err error
	select {
	case <-ctx.Done():
	case err = <-served:
	}
	s.stopping.Store(true)
	s.log.Info("shutting down", "addr", ln.Addr().String())
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if e := hs.Shutdown(sctx); e != nil {
		err = errors.Join(err, fmt.Errorf("serve: graceful shutdown: %w", e))
	}
	stopPoll()
	<-polled
	s.man.Close()
	if s.cleanup != nil {
		s.cleanup()
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Reload rescans the repository now (the poller does so every Poll).
func (s *Server) Reload(ctx context.Context) error { return s.man.Reload(ctx) }

func (s *Server) writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		s.log.Debug("writing a response", "err", err)
	}
}

// errorBody is an error's status and {"error": "..."} body.
func (s *Server) errorBody(err error) (int, any) {
	code := statusOf(err)
	if code == http.StatusInternalServerError {
		s.log.Error("inference failed", "err", err)
	}
	return code, map[string]string{"error": err.Error()}
}

func (s *Server) writeError(w http.ResponseWriter, err error) {
	code, body := s.errorBody(err)
	s.writeJSON(w, code, body)
}

// failedBeforeHold counts a request that failed before its version was
// held (a malformed body) against that version, when it names one.
func (s *Server) failedBeforeHold(name string, sel selector, err error, start time.Time) {
	if v, e := s.man.lookup(s.man.snap.Load(), name, sel); e == nil {
		s.met.answered(v.model, v.num, statusOf(err), time.Since(start))
	}
}
