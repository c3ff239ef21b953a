package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tapeml/tapeml/internal/safeio"
	"github.com/tapeml/tapeml/serve"
)

func serveCmd(e env) *cobra.Command {
	c := &cobra.Command{
		Use:   "serve --models DIR [flags]  (serves DIR/<name>/<version>/ over the Open Inference Protocol v2 (REST and gRPC) and TF Serving's REST API)",
		Short: "serve a model repository over HTTP and gRPC (Open Inference Protocol v2, TF Serving REST)",
		Args:  noArgs,
	}
	fs := c.Flags()
	lim := serve.DefaultLimits
	dir := fs.String("models", "", "model repository: DIR/<name>/<version>/ holding a checkpoint or an exported .safetensors; or an object store URL (s3://bucket/prefix, gs://…, azblob://…, file:///…)")
	addr := fs.String("addr", "127.0.0.1:8500", "listen address (HTTP: REST and the web page)")
	grpcAddr := fs.String("grpc-addr", "", "listen address of the gRPC service inference.GRPCInferenceService (\"\": none), e.g. 127.0.0.1:8501")
	maxBatch := fs.Int("max-batch", 32, "largest batch merged from concurrent requests, and the chunk a long request runs in")
	maxDelay := fs.Duration("max-delay", 2*time.Millisecond, "longest a request waits for others to join its batch")
	poll := fs.Duration("poll", 2*time.Second, "repository poll interval (0: never)")
	maxBody := byteSize(8 << 20)
	fs.Var(&maxBody, "max-body", "request body limit, REST and gRPC (bytes, or with KiB, MiB, GiB)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")

	maxInstances := fs.Int("max-instances", lim.Instances, "examples per request (texts, images, pairs, v1 instances)")
	maxElements := fs.Int("max-elements", lim.Elements, "values per request: JSON numbers, strings and arrays (an object counts 8), tensor elements")
	maxText := byteSize(lim.TextBytes)
	fs.Var(&maxText, "max-text-bytes", "bytes of all the texts of a request")
	maxPixels := fs.Int64("max-pixels", lim.Pixels, "pixels the image files of a request decode to, resize buffers counted")
	maxOutputs := fs.Int64("max-outputs", lim.Outputs, "answer values beyond one row per example (recommendations: n × instances items and scores)")
	maxPasses := fs.Int64("max-explain-passes", lim.ExplainPasses, "attribution passes of an explain request: inputs × (steps + 2), or × occluded parts")
	maxConns := fs.Int("max-connections", 1024, "open connections per listener; beyond, the longest idle one is closed, or the new one when none is idle")
	maxConcurrent := fs.Int("max-concurrent-requests", 64, "inference and explain requests in flight per model; beyond, 503 with Retry-After")
	readTimeout := fs.Duration("read-timeout", 30*time.Second, "longest a request takes to arrive (its headers: at most 10s)")
	writeTimeout := fs.Duration("write-timeout", 60*time.Second, "longest from a request read to its answer written; its work is cancelled then")
	idleTimeout := fs.Duration("idle-timeout", 120*time.Second, "longest a keep-alive connection stays open idle")
	shutdownTimeout := fs.Duration("shutdown-timeout", serve.DefaultShutdownTimeout, "longest a graceful shutdown waits for requests in flight; work still running is then cancelled")
	tokenFile := fs.String("auth-token-file", "", "file of bearer tokens, one per line (# comments): every request must carry one")
	openHealth := fs.Bool("open-health", false, "with --auth-token-file: health and metrics endpoints answer without a token")
	tlsCert := fs.String("tls-cert", "", "TLS certificate (PEM): serve HTTPS and gRPC over TLS")
	tlsKey := fs.String("tls-key", "", "TLS private key (PEM), with --tls-cert")
	cors := fs.StringArray("cors-origin", nil, "an origin whose web pages may call the API, e.g. https://app.example.com, or * (repeatable; default none: foreign origins are refused)")
	sticky := fs.String("sticky-header", "", "route a model's traffic split by this request header, e.g. X-User (gRPC: the metadata key of that name): the same value always gets the same version")
	shadowMax := fs.Int("shadow-concurrency", 0, "shadow copies running at once; more are skipped and counted (0: twice the cores)")
	cache := fs.String("cache", "", "object stores: the folder versions are downloaded to (default: a temporary folder, removed at exit)")
	maxVersion := byteSize(8 << 30)
	fs.Var(&maxVersion, "max-version-bytes", "object stores: the largest version downloaded (bytes, or with KiB, MiB, GiB)")
	followLinks := fs.Bool("follow-external-links", false, "serve model and version folders that are symbolic links to folders outside the repository (links inside it are always followed)")

	c.RunE = func(*cobra.Command, []string) error {
		if *dir == "" {
			return usagef("--models is required")
		}
		var level slog.Level
		if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
			return usagef("--log-level: %v", err)
		}
		positive := []struct {
			flag string
			v    int64
		}{
			{"--max-batch", int64(*maxBatch)}, {"--max-instances", int64(*maxInstances)}, {"--max-elements", int64(*maxElements)},
			{"--max-pixels", *maxPixels}, {"--max-outputs", *maxOutputs}, {"--max-explain-passes", *maxPasses},
			{"--max-connections", int64(*maxConns)}, {"--max-concurrent-requests", int64(*maxConcurrent)},
		}
		for _, p := range positive {
			if p.v < 1 {
				return usagef("%s %d: want a positive number", p.flag, p.v)
			}
		}
		if *maxBatch > 4096 {
			return usagef("--max-batch %d: at most 4096", *maxBatch)
		}
		for _, t := range []struct {
			flag string
			v    time.Duration
		}{{"--max-delay", *maxDelay}, {"--poll", *poll}} {
			if t.v < 0 {
				return usagef("%s %v: must not be negative", t.flag, t.v)
			}
		}
		for _, t := range []struct {
			flag string
			v    time.Duration
		}{{"--read-timeout", *readTimeout}, {"--write-timeout", *writeTimeout}, {"--idle-timeout", *idleTimeout}, {"--shutdown-timeout", *shutdownTimeout}} {
			if t.v <= 0 {
				return usagef("%s %v: want a positive duration", t.flag, t.v)
			}
		}
		if (*tlsCert == "") != (*tlsKey == "") {
			return usagef("--tls-cert and --tls-key go together")
		}
		if *openHealth && *tokenFile == "" {
			return usagef("--open-health goes with --auth-token-file")
		}
		var tokens []string
		if *tokenFile != "" {
			var err error
			if tokens, err = readTokens(*tokenFile); err != nil {
				return usagef("--auth-token-file: %v", err)
			}
		}
		if *poll == 0 {
			*poll = -1 // serve.Config: negative is never
		}
		if *shadowMax < 0 {
			return usagef("--shadow-concurrency %d: want 0 or more", *shadowMax)
		}
		cfg := serve.Config{
			Models: *dir, MaxBatch: *maxBatch, MaxDelay: *maxDelay, Poll: *poll, MaxBody: int64(maxBody),
			Limits: serve.Limits{Instances: *maxInstances, Elements: *maxElements, TextBytes: int64(maxText), Pixels: *maxPixels,
				Outputs: *maxOutputs, ExplainPasses: *maxPasses},
			MaxConnections: *maxConns, MaxConcurrentRequests: *maxConcurrent,
			ReadTimeout: *readTimeout, WriteTimeout: *writeTimeout, IdleTimeout: *idleTimeout, ShutdownTimeout: *shutdownTimeout,
			AuthTokens: tokens, OpenHealth: *openHealth, CORSOrigins: *cors, TLSCert: *tlsCert, TLSKey: *tlsKey,
			StickyHeader: *sticky, ShadowConcurrency: *shadowMax, FollowExternalLinks: *followLinks,
			CacheDir: *cache, MaxVersionBytes: int64(maxVersion),
		}
		return serveModels(e, cfg, level, *addr, *grpcAddr)
	}
	return c
}

// readTokens reads a token file: one token a line, blank lines and lines
// starting with # skipped.
func readTokens(path string) ([]string, error) {
	b, err := safeio.ReadFile(path, 1<<20)
	if err != nil {
		return nil, err
	}
	var tokens []string
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(line) < 16 || strings.ContainsAny(line, " \t") {
			return nil, fmt.Errorf("%s:%d: a token must be at least 16 characters, without spaces", path, i+1)
		}
		tokens = append(tokens, line)
	}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("%s: no token", path)
	}
	return tokens, nil
}

// serveModels serves until SIGINT or SIGTERM.
func serveModels(e env, cfg serve.Config, level slog.Level, addr, grpcAddr string) error {
	log := slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cfg.Logger = log
	s, err := serve.New(ctx, cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	var gln net.Listener
	if grpcAddr != "" {
		if gln, err = net.Listen("tcp", grpcAddr); err != nil {
			ln.Close()
			return err
		}
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	grpcNote := ""
	if gln != nil {
		grpcNote = "  grpc " + gln.Addr().String()
	}
	fmt.Fprintf(e.stderr, "tapeml serve: %s://%s%s  %s\n", scheme, ln.Addr(), grpcNote, s.Summary())
	return s.ServeGRPC(ctx, ln, gln)
}

// byteSize is a flag of bytes with an optional binary or decimal unit.
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Type() string { return "value" }

func (b *byteSize) Set(s string) error {
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 1 || n > (1<<40)/mult {
		return fmt.Errorf("want a positive size such as 8MiB")
	}
	*b = byteSize(n * mult)
	return nil
}
