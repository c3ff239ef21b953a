package repo

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPromoteAndRollback(t *testing.T) {
	_, runs := sharedFixture(t)
	dir := t.TempDir()
	ctx := context.Background()
	for i := range 3 {
		if _, err := Publish(ctx, PublishOptions{Checkpoint: runs[i%2], Repo: dir, Name: "m", NoTest: true}); err != nil {
			t.Fatal(err)
		}
	}
	mdir := filepath.Join(dir, "m")
	// config.json's other settings survive label moves.
	policy := `{"version_policy": {"all": {}}, "labels": {"old": 1}}`
	if err := os.WriteFile(filepath.Join(mdir, ConfigFile), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	opt := LabelOptions{Who: "ops"}
	label := func() (int64, bool) {
		_, labels, err := readConfigLabels(mdir)
		if err != nil {
			t.Fatal(err)
		}
		v, ok := labels["stable"]
		return v, ok
	}
	for _, v := range []int64{1, 3, 2} {
		if _, err := Promote(ctx, dir, "m", "stable", v, opt); err != nil {
			t.Fatal(err)
		}
		if got, _ := label(); got != v {
			t.Fatalf("stable → %d after promoting %d", got, v)
		}
	}
	for _, want := range []int64{3, 1} {
		m, err := Rollback(ctx, dir, "m", "stable", opt)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := label(); got != want || m.To != want {
			t.Fatalf("rollback: stable → %d (move %+v), want %d", got, m, want)
		}
	}
	if _, err := Rollback(ctx, dir, "m", "stable", opt); err != nil {
		t.Fatal(err)
	}
	if v, ok := label(); ok {
		t.Fatalf("rolled back past the first promote: stable still → %d", v)
	}
	if _, err := Rollback(ctx, dir, "m", "stable", opt); err == nil || !strings.Contains(err.Error(), "no move to roll back") {
		t.Fatalf("rollback with nothing left: %v", err)
	}
	var cfg map[string]json.RawMessage
	b, _ := os.ReadFile(filepath.Join(mdir, ConfigFile))
	if err := json.Unmarshal(b, &cfg); err != nil || string(cfg["version_policy"]) != `{"all":{}}` && !strings.Contains(string(cfg["version_policy"]), `"all"`) {
		t.Fatalf("config.json lost its policy: %s", b)
	}
	if l := strings.Join(strings.Fields(string(cfg["labels"])), ""); !strings.Contains(l, `"old":1`) {
		t.Fatalf("config.json lost another label: %s", b)
	}
	h, err := ReadHistory(mdir)
	if err != nil || len(h.Moves) != 6 {
		t.Fatalf("history %+v, %v", h, err)
	}
	for _, m := range h.Moves {
		if m.Who != "ops" || m.When.IsZero() {
			t.Errorf("move %+v lacks who or when", m)
		}
	}
	// A hand edit since the last move: rollback refuses to guess.
	if _, err := Promote(ctx, dir, "m", "stable", 2, opt); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(mdir, ConfigFile), []byte(`{"labels": {"stable": 3}}`), 0o644)
	if _, err := Rollback(ctx, dir, "m", "stable", opt); err == nil || !strings.Contains(err.Error(), "changed by hand") {
		t.Fatalf("rollback after a hand edit: %v", err)
	}
	// Refusals: a version that is not there, a label that reads as a
	// number, a config.json that is a link.
	if _, err := Promote(ctx, dir, "m", "stable", 9, opt); err == nil || !strings.Contains(err.Error(), "no version 9") {
		t.Fatalf("promote to a missing version: %v", err)
	}
	if _, err := Promote(ctx, dir, "m", "2", 1, opt); err == nil {
		t.Fatal("a numeric label was accepted")
	}
	target := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(target, []byte(`{}`), 0o644)
	os.Remove(filepath.Join(mdir, ConfigFile))
	if err := os.Symlink(target, filepath.Join(mdir, ConfigFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := Promote(ctx, dir, "m", "stable", 1, opt); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("promote through a linked config.json: %v", err)
	}
	if b, _ := os.ReadFile(target); string(b) != `{}` {
		t.Fatalf("the link's target was changed: %s", b)
	}
}

func TestListVersions(t *testing.T) {
	_, runs := sharedFixture(t)
	dir := t.TempDir()
	ctx := context.Background()
	for i := range 2 {
		if _, err := Publish(ctx, PublishOptions{Checkpoint: runs[i], Repo: dir, Name: "m", Label: []string{"stable", "canary"}[i]}); err != nil {
			t.Fatal(err)
		}
	}
	// A version copied in by hand, without a card, is listed too.
	if err := os.CopyFS(filepath.Join(dir, "m", "7"), os.DirFS(filepath.Join(dir, "m", "1"))); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "m", "7", CardFile))
	vs, err := List(dir, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 3 || vs[0].Version != 7 || vs[1].Version != 2 || vs[2].Version != 1 {
		t.Fatalf("versions %+v", vs)
	}
	if vs[0].Card != nil || vs[0].CardError == "" || strings.Join(vs[1].Labels, ",") != "canary" || strings.Join(vs[2].Labels, ",") != "stable" {
		t.Fatalf("versions %+v", vs)
	}
	if _, ok := vs[1].Card.Test.Metric("accuracy"); !ok {
		t.Fatalf("no accuracy on version 2's card: %+v", vs[1].Card.Test)
	}
}
