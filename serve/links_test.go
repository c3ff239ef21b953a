package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tapeml/tapeml/repo"
	"github.com/tapeml/tapeml/serve"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeLinkedRepository serves a repository whose model folder and
// version folder are symbolic links, as Kubernetes volumes present them;
// a link out of the repository is refused with one log line naming it,
// however many times the repository is scanned.
func TestServeLinkedRepository(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "models")
	copyDir(t, convnetCheckpoint(t, 1), filepath.Join(dir, "..data", "digits", "1"))
	copyDir(t, convnetCheckpoint(t, 1), filepath.Join(dir, "..data", "v2"))
	copyDir(t, convnetCheckpoint(t, 1), filepath.Join(base, "outside", "3"))
	for _, l := range [][2]string{{"..data/digits", "digits"}, {"../v2", "..data/digits/2"}, {filepath.Join(base, "outside", "3"), "..data/digits/3"}} {
		if err := os.Symlink(l[0], filepath.Join(dir, l[1])); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(dir, "..data", "digits", "config.json"), `{"version_policy": {"all": {}}}`)
	var logs syncBuffer
	ts := start(t, serve.Config{Models: dir, Poll: -1, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for range 3 {
		if err := ts.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	code, b := do(t, "GET", ts.url+"/v1/models/digits", "")
	if code != 200 || !strings.Contains(string(b), `"version":"1"`) || !strings.Contains(string(b), `"version":"2"`) || strings.Contains(string(b), `"version":"3"`) {
		t.Fatalf("served: %d %s", code, b)
	}
	if code, b := do(t, "POST", ts.url+"/v2/models/digits/versions/2/infer", pixelBody(2, 1)); code != 200 {
		t.Fatalf("infer through the linked version: %d %s", code, b)
	}
	refused := 0
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "outside the repository") {
			refused++
			if !strings.Contains(line, filepath.Join(base, "outside", "3")) || !strings.Contains(line, "skipped in the model repository") {
				t.Errorf("refusal does not name the link's target: %s", line)
			}
		}
	}
	if refused != 1 {
		t.Fatalf("the refusal was logged %d times over 4 scans, want once:\n%s", refused, logs.String())
	}
}

// TestMetadataCard publishes a version with a card and reads its main
// fields back from the v2 and v1 metadata endpoints.
func TestMetadataCard(t *testing.T) {
	dir := t.TempDir()
	if _, err := repo.Publish(context.Background(), repo.PublishOptions{Checkpoint: convnetCheckpoint(t, 1), Repo: dir, Name: "digits",
		NoTest: true, Note: "canary candidate", IntendedUse: "tests"}); err != nil {
		t.Fatal(err)
	}
	ts := start(t, serve.Config{Models: dir, Poll: -1})
	var v2 struct {
		Card map[string]any `json:"card"`
	}
	code, b := do(t, "GET", ts.url+"/v2/models/digits/versions/1", "")
	if err := json.Unmarshal(b, &v2); code != 200 || err != nil {
		t.Fatalf("v2 metadata: %d %s", code, b)
	}
	if v2.Card["version"] != 1.0 || v2.Card["note"] != "canary candidate" || v2.Card["intended_use"] != "tests" || v2.Card["code_version"] == "" || v2.Card["created"] == "" {
		t.Fatalf("v2 card: %v", v2.Card)
	}
	var v1 struct {
		Spec     map[string]any `json:"model_spec"`
		Metadata struct {
			Tapeml struct {
				Card map[string]any `json:"card"`
			} `json:"tapeml"`
		} `json:"metadata"`
	}
	code, b = do(t, "GET", ts.url+"/v1/models/digits/metadata", "")
	if err := json.Unmarshal(b, &v1); code != 200 || err != nil || v1.Spec["version"] != "1" || v1.Metadata.Tapeml.Card["note"] != "canary candidate" {
		t.Fatalf("v1 metadata: %d %s", code, b)
	}
	if code, b := do(t, "GET", ts.url+"/v1/models/digits/versions/9/metadata", ""); code != 404 {
		t.Fatalf("metadata of a missing version: %d %s", code, b)
	}
}
