package serve

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadConfig(t *testing.T) {
	cases := []struct {
		name, json, err string
		limit           int
		wants, unwanted int64
	}{
		{"missing", "", "", 1, 5, 0},
		{"latest", `{"version_policy": {"latest": {"num_versions": 2}}}`, "", 2, 5, 0},
		{"specific", `{"version_policy": {"specific": {"versions": [1, 3]}}}`, "", 0, 3, 2},
		{"all", `{"version_policy": {"all": {}}, "labels": {"stable": 1}}`, "", 0, 9, 0},
		{"two policies", `{"version_policy": {"all": {}, "latest": {"num_versions": 1}}}`, "set one of", 0, 0, 0},
		{"latest zero", `{"version_policy": {"latest": {"num_versions": 0}}}`, "num_versions must be at least 1", 0, 0, 0},
		{"specific empty", `{"version_policy": {"specific": {"versions": []}}}`, "versions is empty", 0, 0, 0},
		{"specific negative", `{"version_policy": {"specific": {"versions": [-1]}}}`, "not a positive version", 0, 0, 0},
		{"bad label", `{"labels": {"stable": 0}}`, "labels", 0, 0, 0},
		{"unknown field", `{"version_polcy": {}}`, "unknown field", 0, 0, 0},
		{"truncated", `{"labels": {`, "unexpected EOF", 0, 0, 0},
		{"not an object", `[1]`, "cannot unmarshal", 0, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.json")
			if c.json != "" {
				if err := os.WriteFile(path, []byte(c.json), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cfg, err := readConfig(path)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "config.json") {
					t.Fatalf("error %v, want one naming config.json and saying %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p := cfg.VersionPolicy
			if p.limit() != c.limit || !p.wants(c.wants) || (c.unwanted > 0 && p.wants(c.unwanted)) {
				t.Errorf("limit %d, wants(%d) %v, wants(%d) %v", p.limit(), c.wants, p.wants(c.wants), c.unwanted, p.wants(c.unwanted))
			}
		})
	}
}

func TestScanRepository(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"a/1/meta.json", "a/10/meta.json", "a/2/x.safetensors", "a/007/meta.json", "a/0/meta.json", "a/-3/meta.json", "a/.incoming-4/meta.json", "a/notes/meta.json", ".hidden/1/meta.json", "b/3/run/best/meta.json"} {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		os.WriteFile(full, []byte("{}"), 0o644)
	}
	os.WriteFile(filepath.Join(dir, "a", "5"), []byte("a file, not a version"), 0o644)
	repo, err := scanRepository(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range repo {
		for _, v := range m.versions {
			rel, _ := filepath.Rel(dir, v.path)
			got = append(got, m.name+":"+rel)
		}
	}
	want := "a:a/10 a:a/2/x.safetensors a:a/1 b:b/3"
	if strings.Join(got, " ") != want {
		t.Errorf("scanned %v, want %s", got, want)
	}
	if _, err := scanRepository(filepath.Join(dir, "nope")); err == nil {
		t.Error("a missing repository: no error")
	}
}
