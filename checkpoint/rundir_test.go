package checkpoint

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// epochDirs returns the epoch directories in root.
func epochDirs(t *testing.T, root string) []string {
	t.Helper()
	var dirs []string
	for _, n := range listDir(t, root) {
		if _, ok := parseEpochDir(n); ok {
			dirs = append(dirs, n)
		}
	}
	return dirs
}

func loadEpoch(t *testing.T, dir string) int {
	t.Helper()
	c, err := Load(dir)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c.Meta.Epoch
}

func TestRotationKeepsBest(t *testing.T) {
	root := filepath.Join(t.TempDir(), "run")
	d := Dir{Root: root, Keep: 2}
	steps := []struct {
		epoch      int
		isBest     bool
		wantDirs   []string
		wantBest   int // epoch in best/, 0 for none
		wantLatest string
	}{
		{1, false, []string{"epoch-0001"}, 0, "epoch-0001"},
		{2, true, []string{"epoch-0001", "epoch-0002"}, 2, "epoch-0002"},
		{3, false, []string{"epoch-0002", "epoch-0003"}, 2, "epoch-0003"},
		{4, false, []string{"epoch-0002", "epoch-0003", "epoch-0004"}, 2, "epoch-0004"}, // the best epoch's dir is kept
		{5, true, []string{"epoch-0004", "epoch-0005"}, 5, "epoch-0005"},
		// Resumed from epoch 3: the re-saved epoch 4 is the newest.
		{4, false, []string{"epoch-0004", "epoch-0005"}, 5, "epoch-0004"},
		// Re-saving the best epoch as not best: best/ keeps the best.
		{5, false, []string{"epoch-0004", "epoch-0005"}, 5, "epoch-0005"},
		{6, false, []string{"epoch-0005", "epoch-0006"}, 5, "epoch-0006"},
	}
	for i, s := range steps {
		c := sample(s.epoch, false)
		path, err := d.Save(c, s.epoch, s.isBest)
		if err != nil {
			t.Fatalf("step %d: Save: %v", i, err)
		}
		if want := filepath.Join(root, EpochDirName(s.epoch)); path != want {
			t.Errorf("step %d: Save returned %s, want %s", i, path, want)
		}
		if got := epochDirs(t, root); !slices.Equal(got, s.wantDirs) {
			t.Errorf("step %d: epoch dirs %v, want %v", i, got, s.wantDirs)
		}
		best, err := d.Best()
		if s.wantBest == 0 {
			wantErr(t, err, "no best checkpoint saved")
		} else if err != nil {
			t.Errorf("step %d: Best: %v", i, err)
		} else if got := loadEpoch(t, best); got != s.wantBest {
			t.Errorf("step %d: best/ holds epoch %d, want %d", i, got, s.wantBest)
		}
		latest, err := d.Latest()
		if err != nil || latest != filepath.Join(root, s.wantLatest) {
			t.Errorf("step %d: Latest = %s, %v; want %s", i, latest, err, s.wantLatest)
		}
		for _, n := range listDir(t, root) {
			if strings.HasPrefix(n, ".") {
				t.Errorf("step %d: leftover %s", i, n)
			}
		}
	}
}

func TestDirDefaultsAndCleanup(t *testing.T) {
	root := t.TempDir()
	d := Dir{Root: root} // Keep 0: default 3
	// Leftovers of a crashed save, and an epoch saved but never indexed.
	for _, n := range []string{".epoch-0009.tmp-1", ".best.old-2", "epoch-0042"} {
		if err := os.Mkdir(filepath.Join(root, n), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, ".index.json.tmp-3"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	for e := 1; e <= 5; e++ {
		if _, err := d.Save(sample(e, false), e, false); err != nil {
			t.Fatal(err)
		}
	}
	// epoch-0042 is no checkpoint of this run's (no index listed it): kept.
	want := []string{"epoch-0003", "epoch-0004", "epoch-0005", "epoch-0042", IndexFile, "notes.txt"}
	if got := listDir(t, root); !slices.Equal(got, want) {
		t.Errorf("run folder holds %v, want %v", got, want)
	}
}

func TestDirErrors(t *testing.T) {
	root := t.TempDir()
	d := Dir{Root: root}
	_, err := d.Latest()
	wantErr(t, err, root, "no checkpoint saved yet")
	_, err = d.Best()
	wantErr(t, err, root, "no best checkpoint saved")
	_, err = d.Save(sample(1, false), -1, false)
	wantErr(t, err, "epoch -1 is negative")

	if err := os.WriteFile(filepath.Join(root, IndexFile), []byte(`{"format_version":1,"latest":"epo`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = d.Save(sample(1, false), 1, false)
	wantErr(t, err, filepath.Join(root, IndexFile), "invalid JSON")
	if err := os.WriteFile(filepath.Join(root, IndexFile), []byte(`{"format_version":1,"latest":"../../etc"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = d.Latest()
	wantErr(t, err, `"../../etc" is not an epoch directory name`)
	if err := os.WriteFile(filepath.Join(root, IndexFile), []byte(`{"format_version":7}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = d.Latest()
	wantErr(t, err, "format version 7")
	if err := os.WriteFile(filepath.Join(root, IndexFile), []byte(`{"format_version":1,"latest":"epoch-0003"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = d.Latest()
	wantErr(t, err, "names epoch-0003, which is missing or incomplete")
}

func TestEpochDirName(t *testing.T) {
	tests := []struct {
		name  string
		epoch int
		ok    bool
	}{
		{"epoch-0003", 3, true},
		{"epoch-12345", 12345, true},
		{"epoch-003", 0, false},
		{"epoch-00003", 0, false},
		{"epoch--001", 0, false},
		{"epoch-00a1", 0, false},
		{"best", 0, false},
	}
	for _, tc := range tests {
		epoch, ok := parseEpochDir(tc.name)
		if ok != tc.ok || (ok && epoch != tc.epoch) {
			t.Errorf("parseEpochDir(%q) = %d, %v; want %d, %v", tc.name, epoch, ok, tc.epoch, tc.ok)
		}
		if tc.ok && EpochDirName(tc.epoch) != tc.name {
			t.Errorf("EpochDirName(%d) = %q", tc.epoch, EpochDirName(tc.epoch))
		}
	}
}

func TestResolve(t *testing.T) {
	root := t.TempDir()
	run := filepath.Join(root, "run")
	d := Dir{Root: run}
	for e := 1; e <= 3; e++ {
		if _, err := d.Save(sample(e, false), e, e == 2); err != nil {
			t.Fatal(err)
		}
	}
	noBest := filepath.Join(root, "nobest")
	if _, err := (Dir{Root: noBest}).Save(sample(1, false), 1, false); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(root, "plain")
	if err := os.Mkdir(plain, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		path    string
		pick    Pick
		want    string // the checkpoint directory, or
		wantErr string // an error substring
	}{
		{run, PickBest, filepath.Join(run, "epoch-0002"), ""},
		{run, PickLatest, filepath.Join(run, "epoch-0003"), ""},
		{filepath.Join(run, "epoch-0002"), PickLatest, filepath.Join(run, "epoch-0002"), ""},
		{filepath.Join(run, BestDir), PickLatest, filepath.Join(run, BestDir), ""},
		{noBest, PickLatest, filepath.Join(noBest, "epoch-0001"), ""},
		{noBest, PickBest, "", "pass the latest explicitly: " + filepath.Join(noBest, "epoch-0001")},
		{plain, PickBest, "", "neither a checkpoint directory (no meta.json) nor a run folder (no index.json)"},
		{file, PickBest, "", "not a directory"},
		{filepath.Join(root, "absent"), PickBest, "", "no such file or directory"},
	}
	for _, tc := range tests {
		got, err := Resolve(tc.path, tc.pick)
		if tc.wantErr != "" {
			wantErr(t, err, tc.wantErr)
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Resolve(%s, %d) = %s, %v; want %s", tc.path, tc.pick, got, err, tc.want)
		}
	}
	if epoch := loadEpoch(t, filepath.Join(run, BestDir)); epoch != 2 {
		t.Errorf("best is epoch %d, want 2", epoch)
	}
}
