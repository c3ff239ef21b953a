package repo

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/internal/buildinfo"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/models/textcnn"
	"github.com/tapeml/tapeml/textclass"
	"github.com/tapeml/tapeml/train"
)

func TestPublishWritesACompleteCard(t *testing.T) {
	data, runs := sharedFixture(t)
	dir := t.TempDir()
	when := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	p, err := Publish(context.Background(), PublishOptions{Checkpoint: runs[0], Repo: dir, Name: "tickets",
		Label: "stable", Note: "first cut", Who: "ana@desk", Now: func() time.Time { return when }})
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != 1 || p.Path != filepath.Join(dir, "tickets", "1") {
		t.Fatalf("published %d at %s, want 1 at tickets/1", p.Version, p.Path)
	}
	c, err := ReadCard(filepath.Join(p.Path, CardFile))
	if err != nil {
		t.Fatal(err)
	}
	// Every field a card promises.
	var raw map[string]json.RawMessage
	b, _ := os.ReadFile(filepath.Join(p.Path, CardFile))
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"card_format", "name", "version", "kind", "config", "classes", "data", "code_version", "created", "created_by",
		"source", "epoch", "test", "intended_use", "limitations", "note", "size"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("card.json has no %q", k)
		}
	}
	if c.Kind != "textcnn" || c.Name != "tickets" || c.Version != 1 || c.CreatedBy != "ana@desk" || !c.Created.Equal(when) || c.Note != "first cut" {
		t.Errorf("card %+v", c)
	}
	if strings.Join(c.Classes, ",") != "billing,tech" {
		t.Errorf("classes %v", c.Classes)
	}
	if !json.Valid(c.Config) || !strings.Contains(strings.Join(strings.Fields(string(c.Config)), ""), `"maxlen":8`) {
		t.Errorf("config %s", c.Config)
	}
	if c.CodeVersion != buildinfo.Version() || c.CodeVersion == "" {
		t.Errorf("code version %q, want %q", c.CodeVersion, buildinfo.Version())
	}
	if len(c.Data.Sources) != 1 || c.Data.Sources[0].Path != data || c.Data.Sources[0].Files != 120 || len(c.Data.SHA256) != 64 {
		t.Errorf("data %+v", c.Data)
	}
	if c.Privacy != nil || c.Quantization != nil || c.Parent != 0 {
		t.Errorf("privacy %v, quantization %v, parent %d: want none", c.Privacy, c.Quantization, c.Parent)
	}
	if !strings.Contains(c.IntendedUse, "Template text") || !strings.Contains(c.Limitations, "n=40") {
		t.Errorf("intended use %q, limitations %q", c.IntendedUse, c.Limitations)
	}
	// The test metrics are what eval reports for the run's best epoch.
	m, err := tapeml.Load(runs[0])
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.EvaluateRunData(context.Background(), tapeml.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Test.N != r.N || c.Test.Data != data || len(c.Test.Metrics) != len(r.Metrics) || c.Test.Error != "" {
		t.Fatalf("test %+v, eval n=%d %v", c.Test, r.N, r.Metrics)
	}
	for i, mt := range r.Metrics {
		if got := c.Test.Metrics[i]; got.Name != mt.Name || got.Value == nil || *got.Value != mt.Value {
			t.Errorf("metric %d: card %s=%v, eval %s=%v", i, got.Name, got.Value, mt.Name, mt.Value)
		}
	}
	// The version is weights-only and loads as serve loads it.
	meta, err := checkpoint.Load(p.Path)
	if err != nil {
		t.Fatal(err)
	}
	if !meta.Meta.WeightsOnly || len(meta.Optimizer) != 0 {
		t.Errorf("published checkpoint keeps optimizer state")
	}
	md, err := os.ReadFile(filepath.Join(p.Path, CardMarkdown))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# tickets version 1", "## Intended use", "## Limitations", "| accuracy |", c.Data.SHA256, "without differential privacy",
		"None: float32 weights", c.CodeVersion, "first cut", `"maxlen": 8`} {
		if !strings.Contains(string(md), want) {
			t.Errorf("MODEL_CARD.md lacks %q:\n%s", want, md)
		}
	}
	// The label moved, with a history entry.
	vs, err := List(dir, "tickets")
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 || strings.Join(vs[0].Labels, ",") != "stable" || vs[0].Card == nil || vs[0].Size <= 0 {
		t.Fatalf("versions %+v", vs)
	}
	h, err := ReadHistory(filepath.Join(dir, "tickets"))
	if err != nil || len(h.Moves) != 1 || h.Moves[0] != (Move{Label: "stable", To: 1, Who: "ana@desk", When: when, Action: "publish"}) {
		t.Fatalf("history %+v, %v", h, err)
	}
}

func TestDataHashFollowsOneFile(t *testing.T) {
	dir := tickets(t, filepath.Join(t.TempDir(), "tickets"))
	before := HashData([]string{dir})
	again := HashData([]string{dir})
	if before.SHA256 == "" || before.SHA256 != again.SHA256 {
		t.Fatalf("hash %q then %q", before.SHA256, again.SHA256)
	}
	f := filepath.Join(dir, "train", "tech", "007.txt")
	b, _ := os.ReadFile(f)
	if err := os.WriteFile(f, append(b, '!'), 0o644); err != nil {
		t.Fatal(err)
	}
	changed := HashData([]string{dir})
	if changed.SHA256 == before.SHA256 || changed.Sources[0].Bytes != before.Sources[0].Bytes+1 {
		t.Fatalf("hash after one changed file: %+v, before %+v", changed, before)
	}
	if err := os.Rename(f, f+".bak"); err != nil { // renamed: a different set of files
		t.Fatal(err)
	}
	if renamed := HashData([]string{dir}); renamed.SHA256 == changed.SHA256 {
		t.Fatal("renaming a file did not change the hash")
	}
	builtin := HashData([]string{"builtin:spamassassin-sample"})
	if !builtin.Sources[0].Builtin || builtin.SHA256 == "" || builtin.SHA256 != HashData([]string{"builtin:spamassassin-sample"}).SHA256 {
		t.Fatalf("built-in hash %+v", builtin)
	}
	gone := HashData([]string{filepath.Join(dir, "nowhere")})
	if gone.SHA256 != "" || gone.Sources[0].Error == "" {
		t.Fatalf("a missing source hashed: %+v", gone)
	}
}

// TestConcurrentPublishes publishes two runs at once, ten times: the
// versions are 1 to 20 with no gap and no collision, each complete.
func TestConcurrentPublishes(t *testing.T) {
	_, runs := sharedFixture(t)
	dir := t.TempDir()
	for round := range 10 {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range 2 {
			wg.Go(func() {
				_, errs[i] = Publish(context.Background(), PublishOptions{Checkpoint: runs[i], Repo: dir, Name: "tickets", NoTest: round > 0})
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	checkVersions(t, filepath.Join(dir, "tickets"), 20)
}

// checkVersions checks that mdir holds versions 1..n, each loading as
// serve would load it with a card naming it, and nothing else but the
// model's own files.
func checkVersions(t *testing.T, mdir string, n int) { checkVersionsLeft(t, mdir, n, false) }

// checkVersionsLeft is checkVersions that, with leftovers, allows what a
// killed publish leaves (its temporary folder, the lock file).
func checkVersionsLeft(t *testing.T, mdir string, n int, leftovers bool) {
	t.Helper()
	entries, err := os.ReadDir(mdir)
	if err != nil {
		t.Fatal(err)
	}
	var versions []int
	for _, e := range entries {
		v, ok := parseVersion(e.Name())
		if !ok {
			left := leftovers && (strings.HasPrefix(e.Name(), tmpPrefix) || e.Name() == checkpoint.LockFile)
			if e.Name() != ConfigFile && e.Name() != HistoryFile && !left {
				t.Errorf("left in %s: %s", mdir, e.Name())
			}
			continue
		}
		versions = append(versions, int(v))
		vdir := filepath.Join(mdir, e.Name())
		if _, err := tapeml.Load(LoadPath(vdir)); err != nil {
			t.Errorf("version %d does not load: %v", v, err)
		}
		c, err := ReadCard(filepath.Join(vdir, CardFile))
		if err != nil || c.Version != v {
			t.Errorf("version %d: card %v, %v", v, c, err)
		}
		if _, err := os.Stat(filepath.Join(vdir, CardMarkdown)); err != nil {
			t.Errorf("version %d: %v", v, err)
		}
	}
	if len(versions) != n {
		t.Fatalf("%d versions, want %d: %v", len(versions), n, versions)
	}
	for _, v := range versions { // ReadDir sorts by name: compare as a set
		if v < 1 || v > n {
			t.Errorf("version %d outside 1..%d", v, n)
		}
	}
}

func TestPublishRefuses(t *testing.T) {
	_, runs := sharedFixture(t)
	dir := t.TempDir()
	ctx := context.Background()
	for _, tc := range []struct {
		opt  PublishOptions
		want string
	}{
		{PublishOptions{Checkpoint: runs[0], Repo: dir, Name: "../x"}, "plain folder name"},
		{PublishOptions{Checkpoint: runs[0], Repo: dir, Name: ".hidden"}, "plain folder name"},
		{PublishOptions{Checkpoint: runs[0], Repo: dir, Name: "m", Label: "7"}, "would read as a version"},
		{PublishOptions{Checkpoint: runs[0], Repo: dir, Name: "m", Parent: 3}, "parent version 3"},
		{PublishOptions{Checkpoint: filepath.Join(dir, "none"), Repo: dir, Name: "m"}, "no such file"},
	} {
		_, err := Publish(ctx, tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.opt, err, tc.want)
		}
	}
	// A folder a person made with the next number is never replaced.
	if err := os.MkdirAll(filepath.Join(dir, "m", "1"), 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := Publish(ctx, PublishOptions{Checkpoint: runs[0], Repo: dir, Name: "m", NoTest: true})
	if err != nil || p.Version != 2 {
		t.Fatalf("published %+v, %v; want version 2 beside the empty 1", p, err)
	}
	if c, _ := ReadCard(filepath.Join(p.Path, CardFile)); c == nil || c.Test.Error == "" {
		t.Errorf("--no-test card %+v", c)
	}
	// A parent that exists is recorded.
	p3, err := Publish(ctx, PublishOptions{Checkpoint: runs[1], Repo: dir, Name: "m", NoTest: true, Parent: 2})
	if err != nil || p3.Card.Parent != 2 || p3.Version != 3 {
		t.Fatalf("fine-tune: %+v, %v", p3, err)
	}
	_ = strconv.Itoa
}

// TestPublishFindsTheParent fine-tunes version 1 (train --init) and
// publishes the result: its card names version 1 as its parent, from the
// init path the training recorded.
func TestPublishFindsTheParent(t *testing.T) {
	data, runs := sharedFixture(t)
	dir := t.TempDir()
	ctx := context.Background()
	p1, err := Publish(ctx, PublishOptions{Checkpoint: runs[0], Repo: dir, Name: "m", NoTest: true})
	if err != nil {
		t.Fatal(err)
	}
	k, err := kinds.Lookup(textcnn.Kind)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := train.NewSpec(k)
	if err != nil {
		t.Fatal(err)
	}
	spec.Init, spec.Threads, spec.Out = p1.Path, 1, filepath.Join(t.TempDir(), "tuned")
	spec.Data.(*textclass.Data).Path = data
	spec.Training.Epochs, spec.Training.Batch = 1, 16
	spec.Set["epochs"], spec.Set["batch"], spec.Set["data"] = true, true, true
	if _, err := train.Run(ctx, *spec); err != nil {
		t.Fatal(err)
	}
	p2, err := Publish(ctx, PublishOptions{Checkpoint: spec.Out, Repo: dir, Name: "m", NoTest: true})
	if err != nil {
		t.Fatal(err)
	}
	if p2.Card.Parent != 1 || p2.Card.Init != p1.Path && !strings.HasSuffix(p2.Card.Init, filepath.Join("m", "1")) {
		t.Fatalf("fine-tune's card: parent %d, init %q", p2.Card.Parent, p2.Card.Init)
	}
	// A run started from elsewhere has no parent in this model.
	p3, err := Publish(ctx, PublishOptions{Checkpoint: runs[1], Repo: dir, Name: "m", NoTest: true})
	if err != nil || p3.Card.Parent != 0 {
		t.Fatalf("unrelated run: parent %d, %v", p3.Card.Parent, err)
	}
}

var processes = flag.Bool("repo.processes", false, "run TestConcurrentPublishProcesses (20 publishing processes, about 12 s here)")

// TestConcurrentPublishProcesses is TestConcurrentPublishes with two
// processes (this test binary run again as a publisher) ten times: the
// lock works between processes as between goroutines. It takes about 12 s
// on a loaded 2-core machine, so it runs with -repo.processes.
func TestConcurrentPublishProcesses(t *testing.T) {
	if run := os.Getenv("TAPEML_REPO_PUBLISH"); run != "" { // the child
		if _, err := Publish(context.Background(), PublishOptions{Checkpoint: run, Repo: os.Getenv("TAPEML_REPO_DIR"), Name: "m", NoTest: true}); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !*processes {
		t.Skip("run with -repo.processes")
	}
	_, runs := sharedFixture(t)
	dir := t.TempDir()
	for range 10 {
		var cmds []*exec.Cmd
		for i := range 2 {
			cmd := exec.Command(os.Args[0], "-test.run=^TestConcurrentPublishProcesses$", "-test.count=1", "-repo.processes")
			cmd.Env = append(os.Environ(), "TAPEML_REPO_PUBLISH="+runs[i], "TAPEML_REPO_DIR="+dir)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			cmds = append(cmds, cmd)
		}
		for _, cmd := range cmds {
			if err := cmd.Wait(); err != nil {
				t.Fatalf("a publishing process failed: %v", err)
			}
		}
	}
	checkVersions(t, filepath.Join(dir, "m"), 20)
}
