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

	"github.com/tapeml/tapeml/serve"
)

func serveCmd(e env) *cobra.Command {
	c := &cobra.Command{
		Use:   "serve --models DIR [flags]  (serves DIR/<name>/<version>/ over the Open Inference Protocol v2 and TF Serving's REST API)",
		Short: "serve a model repository over HTTP (Open Inference Protocol v2, TF Serving REST)",
		Args:  noArgs,
	}
	fs := c.Flags()
	dir := fs.String("models", "", "model repository: DIR/<name>/<version>/ holding a checkpoint or an exported .safetensors; or an object store URL (s3://bucket/prefix, gs://…, azblob://…, file:///…)")
	addr := fs.String("addr", "127.0.0.1:8500", "listen address")
	maxBatch := fs.Int("max-batch", 32, "largest batch merged from concurrent requests")
	maxDelay := fs.Duration("max-delay", 2*time.Millisecond, "longest a request waits for others to join its batch")
	poll := fs.Duration("poll", 2*time.Second, "repository poll interval (0: never)")
	maxBody := byteSize(8 << 20)
	fs.Var(&maxBody, "max-body", "request body limit (bytes, or with KiB, MiB, GiB)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	sticky := fs.String("sticky-header", "", "route a model's traffic split by this request header (X-User): the same value always gets the same version")
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
		if *poll == 0 {
			*poll = -1 // serve.Config: negative is never
		}
		if *shadowMax < 0 {
			return usagef("--shadow-concurrency %d: want 0 or more", *shadowMax)
		}
		return serveModels(e, serve.Config{Models: *dir, MaxBatch: *maxBatch, MaxDelay: *maxDelay, Poll: *poll, MaxBody: int64(maxBody),
			StickyHeader: *sticky, ShadowConcurrency: *shadowMax, FollowExternalLinks: *followLinks,
			CacheDir: *cache, MaxVersionBytes: int64(maxVersion)}, level, *addr)
	}
	return c
}

// serveModels serves until SIGINT or SIGTERM.
func serveModels(e env, cfg serve.Config, level slog.Level, addr string) error {
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
	fmt.Fprintf(e.stderr, "tapeml serve: http://%s  %s\n", ln.Addr(), s.Summary())
	return s.Serve(ctx, ln)
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
