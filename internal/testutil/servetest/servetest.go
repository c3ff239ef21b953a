// Package servetest serves a checkpoint from a fresh model repository for
// tests outside package serve: the end-to-end checks that a kind's served
// answers equal the library's.
package servetest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/serve"
)

// TextProbs saves c as version 1 of model name in a fresh repository,
// serves it, sends texts to its Open Inference Protocol v2 endpoint as one
// BYTES input named "text", and returns the "probs" output, row-major
// [len(texts), classes]. Any failure fails t.
func TextProbs(t testing.TB, ctx context.Context, c *checkpoint.Checkpoint, name string, texts []string) []float32 {
	t.Helper()
	repo := t.TempDir()
	if err := os.MkdirAll(filepath.Join(repo, name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := checkpoint.Save(filepath.Join(repo, name, "1"), c); err != nil {
		t.Fatal(err)
	}
	srv, err := serve.New(ctx, serve.Config{Models: repo, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	body, _ := json.Marshal(map[string]any{"inputs": []map[string]any{{"name": "text", "datatype": "BYTES", "shape": []int{len(texts)}, "data": texts}}})
	resp, err := http.Post(ts.URL+"/v2/models/"+name+"/infer", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("serve: %d %s", resp.StatusCode, raw)
	}
	var got struct {
		Outputs []struct {
			Name string          `json:"name"`
			Data json.RawMessage `json:"data"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	for _, o := range got.Outputs {
		if o.Name == "probs" {
			var probs []float32
			if err := json.Unmarshal(o.Data, &probs); err != nil {
				t.Fatal(err)
			}
			return probs
		}
	}
	t.Fatalf("serve: no probs in %s", raw)
	return nil
}
