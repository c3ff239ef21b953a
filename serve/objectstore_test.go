package serve_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/memblob"

	"github.com/tapeml/tapeml/serve"
)

// upload copies a checkpoint folder's files to the bucket under prefix.
func upload(t testing.TB, b *blob.Bucket, src, prefix string) {
	t.Helper()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := b.WriteAll(context.Background(), prefix+e.Name(), data, nil); err != nil {
			t.Fatal(err)
		}
	}
}

func served(t testing.TB, ts *testServer, model string) string {
	t.Helper()
	_, b := do(t, "GET", ts.url+"/v1/models/"+model, "")
	return string(b)
}

// TestObjectStoreRepository serves a repository in a memblob bucket: it
// loads at start, takes a new version after one quiet poll, unloads a
// version removed from the store, and refuses a version over the size
// limit with one log line.
func TestObjectStoreRepository(t *testing.T) {
	ctx := context.Background()
	bucket := memblob.OpenBucket(nil)
	defer bucket.Close()
	ckpt := convnetCheckpoint(t, 1)
	dir := t.TempDir()
	perturbed(t, ckpt, filepath.Join(dir, "v2"), 0.15, 5)
	upload(t, bucket, ckpt, "digits/1/")
	if err := bucket.WriteAll(ctx, "digits/config.json", []byte(`{"version_policy": {"all": {}}}`), nil); err != nil {
		t.Fatal(err)
	}
	var size int64
	entries, _ := os.ReadDir(ckpt)
	for _, e := range entries {
		fi, _ := e.Info()
		size += fi.Size()
	}
	var logs syncBuffer
	ts := start(t, serve.Config{Models: "mem://", Bucket: bucket, Poll: -1, MaxVersionBytes: 3 * size / 2,
		CacheDir: filepath.Join(dir, "cache"), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if s := served(t, ts, "digits"); !strings.Contains(s, `"version":"1"`) {
		t.Fatalf("at start: %s", s)
	}
	if code, b := do(t, "POST", ts.url+"/v2/models/digits/versions/1/infer", pixelBody(2, 1)); code != 200 {
		t.Fatalf("infer: %d %s", code, b)
	}
	// A new version: listed once, taken at the next poll.
	upload(t, bucket, filepath.Join(dir, "v2"), "digits/2/")
	ts.Reload(ctx)
	if s := served(t, ts, "digits"); strings.Contains(s, `"version":"2"`) {
		t.Fatalf("version 2 served at its first listing: %s", s)
	}
	ts.Reload(ctx)
	if s := served(t, ts, "digits"); !strings.Contains(s, `"version":"2"`) || !strings.Contains(s, `"version":"1"`) {
		t.Fatalf("after a quiet poll: %s", s)
	}
	// Removed from the store: unloaded.
	for _, e := range entries {
		bucket.Delete(ctx, "digits/1/"+e.Name())
	}
	ts.Reload(ctx)
	if s := served(t, ts, "digits"); strings.Contains(s, `"version":"1"`) || !strings.Contains(s, `"version":"2"`) {
		t.Fatalf("after removing version 1: %s", s)
	}
	// Too large: refused, logged once.
	upload(t, bucket, ckpt, "digits/3/")
	bucket.WriteAll(ctx, "digits/3/padding.bin", make([]byte, size), nil)
	for range 3 {
		ts.Reload(ctx)
	}
	if s := served(t, ts, "digits"); strings.Contains(s, `"version":"3"`) {
		t.Fatalf("the oversized version was served: %s", s)
	}
	if n := strings.Count(logs.String(), "model version refused"); n != 1 || !strings.Contains(logs.String(), "digits/3/") {
		t.Fatalf("refusal logged %d times:\n%s", n, logs.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "cache", "digits", "3")); err == nil {
		t.Fatal("the oversized version was downloaded")
	}
}

// TestFileURLRepository serves a file:// URL through gocloud.dev's
// fileblob, as serve --models file:///… does.
func TestFileURLRepository(t *testing.T) {
	store := t.TempDir()
	copyDir(t, convnetCheckpoint(t, 1), filepath.Join(store, "digits", "1"))
	ts := start(t, serve.Config{Models: "file://" + store, Poll: -1})
	if s := served(t, ts, "digits"); !strings.Contains(s, `"version":"1"`) {
		t.Fatalf("served: %s", s)
	}
	copyDir(t, convnetCheckpoint(t, 1), filepath.Join(store, "digits", "2"))
	ts.Reload(context.Background())
	ts.Reload(context.Background())
	if s := served(t, ts, "digits"); !strings.Contains(s, `"version":"2"`) {
		t.Fatalf("hot reload: %s", s)
	}
	os.RemoveAll(filepath.Join(store, "digits", "2"))
	ts.Reload(context.Background())
	if s := served(t, ts, "digits"); strings.Contains(s, `"version":"2"`) || !strings.Contains(s, `"version":"1"`) {
		t.Fatalf("after removal: %s", s)
	}
}
