package serve_test

import (
	"context"
	"log"
	"net"
	"os/signal"
	"syscall"
	"time"

	"github.com/tapeml/tapeml/serve"
)

// A server for the repository ./models on 127.0.0.1:8500 that stops
// gracefully on SIGTERM or SIGINT — what `tapeml serve` runs.
func ExampleServer_Serve() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	s, err := serve.New(ctx, serve.Config{Models: "./models", MaxBatch: 32, MaxDelay: 2 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:8500")
	if err != nil {
		log.Fatal(err)
	}
	log.Println(s.Summary())
	if err := s.Serve(ctx, ln); err != nil {
		log.Fatal(err)
	}
}
