package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tapeml/tapeml/repo"
	"github.com/tapeml/tapeml/serve"
)

// TestRegistryCommands trains two runs and drives publish, versions (with
// a running server), compare, promote and rollback as a user would.
func TestRegistryCommands(t *testing.T) {
	base := tinyText(t)
	tmp := t.TempDir()
	runs := []string{filepath.Join(tmp, "a"), filepath.Join(tmp, "b")}
	for i, run := range runs {
		args := append(append([]string{}, base...), "--epochs", "2", "--out", run)
		args[slices.Index(args, "--seed")+1] = []string{"3", "4"}[i]
		if status, _, stderr := runCLI(t, "", args...); status != 0 {
			t.Fatalf("train: %s", stderr)
		}
	}
	dir := filepath.Join(tmp, "models")
	status, out, stderr := runCLI(t, "", "publish", "--checkpoint", runs[0], "--repo", dir, "--name", "spam", "--label", "stable")
	if status != 0 || !strings.Contains(out, "published spam version 1") || !strings.Contains(out, "label stable → 1") {
		t.Fatalf("publish: %d %s %s", status, out, stderr)
	}
	status, out, stderr = runCLI(t, "", "publish", "--checkpoint", runs[1], "--repo", dir, "--name", "spam", "--json", "--intended-use", "tests")
	if status != 0 {
		t.Fatalf("publish --json: %s", stderr)
	}
	var card repo.Card
	if err := json.Unmarshal([]byte(out), &card); err != nil || card.Version != 2 || card.IntendedUse != "tests" {
		t.Fatalf("publish --json: %v %s", err, out)
	}
	// The card's code version is what tapeml --version prints.
	_, vout, _ := runCLI(t, "", "--version")
	if want := strings.TrimSpace(strings.TrimPrefix(vout, "tapeml ")); card.CodeVersion != want {
		t.Fatalf("card code version %q, tapeml --version %q", card.CodeVersion, want)
	}

	if status, _, stderr = runCLI(t, "", "publish", "--checkpoint", runs[0], "--repo", dir, "--name", "spam", "--no-test"); status != 0 {
		t.Fatalf("publish --no-test: %s", stderr)
	}

	// versions, asking a running server.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := serve.New(ctx, serve.Config{Models: dir, Poll: -1})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	status, out, stderr = runCLI(t, "", "versions", "--repo", dir, "--name", "spam", "--server", ts.URL, "--json")
	if status != 0 {
		t.Fatalf("versions: %s", stderr)
	}
	var vs []repo.VersionInfo
	if err := json.Unmarshal([]byte(out), &vs); err != nil || len(vs) != 3 {
		t.Fatalf("versions --json: %v %s", err, out)
	}
	// The default policy serves the highest version, and labelled ones.
	if vs[0].Version != 3 || vs[0].State != "AVAILABLE" || vs[1].State != "not loaded" || vs[2].State != "AVAILABLE" || strings.Join(vs[2].Labels, ",") != "stable" {
		t.Fatalf("versions: %+v", vs)
	}
	status, out, _ = runCLI(t, "", "versions", "--repo", dir, "--name", "spam")
	if status != 0 || !strings.Contains(out, "VERSION") || !strings.Contains(out, "stable") || !strings.Contains(out, "accuracy") {
		t.Fatalf("versions table: %s", out)
	}

	// compare by label and number.
	status, out, stderr = runCLI(t, "", "compare", "--repo", dir, "--name", "spam", "stable", "2", "--show", "2")
	if status != 0 || !strings.Contains(out, "agreement") || !strings.Contains(out, "F1 change") {
		t.Fatalf("compare: %d %s %s", status, out, stderr)
	}

	// promote, then rollback.
	if status, out, stderr = runCLI(t, "", "promote", "--repo", dir, "--name", "spam", "--label", "stable", "--version", "2"); status != 0 || !strings.Contains(out, "stable → 2 (was 1)") {
		t.Fatalf("promote: %s %s", out, stderr)
	}
	if status, out, stderr = runCLI(t, "", "rollback", "--repo", dir, "--name", "spam", "--label", "stable"); status != 0 || !strings.Contains(out, "stable → 1 (was 2") {
		t.Fatalf("rollback: %s %s", out, stderr)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "spam", "config.json"))
	if !strings.Contains(string(b), `"stable": 1`) {
		t.Fatalf("config.json after rollback: %s", b)
	}

	// Usage errors exit 2 with one line.
	for _, args := range [][]string{
		{"publish", "--repo", dir, "--name", "spam"},
		{"publish", "--checkpoint", runs[0], "--repo", dir, "--name", "a/b"},
		{"versions", "--repo", dir},
		{"compare", "--repo", dir, "--name", "spam", "1"},
		{"compare", "--repo", dir, "--name", "spam", "1", "prod"},
		{"promote", "--repo", dir, "--name", "spam", "--label", "stable"},
		{"rollback", "--repo", dir, "--name", "spam"},
	} {
		status, _, stderr := runCLI(t, "", args...)
		if status != exitUsage || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: status %d, stderr %q", args, status, stderr)
		}
	}
}
