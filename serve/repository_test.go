package serve

import (
	"os"
	"path/filepath"
	"strconv"
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
	skipped := map[string]string{}
	repo, err := scanRepository(dir, false, func(path, why string) {
		rel, _ := filepath.Rel(dir, path)
		skipped[rel] = why
	})
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
	// Every entry skipped but hidden ones is reported, with its reason.
	wantSkipped := map[string]string{"a/5": "not a folder", "a/007": "not a version", "a/0": "not a version", "a/-3": "not a version", "a/notes": "not a version"}
	if len(skipped) != len(wantSkipped) {
		t.Errorf("skipped %v", skipped)
	}
	for p, why := range wantSkipped {
		if !strings.HasPrefix(skipped[p], why) {
			t.Errorf("%s skipped for %q, want %q", p, skipped[p], why)
		}
	}
	if _, err := scanRepository(filepath.Join(dir, "nope"), false, func(string, string) {}); err == nil {
		t.Error("a missing repository: no error")
	}
}

// TestScanFollowsLinks lays out a repository as a Kubernetes volume
// does — model and version folders that are symbolic links — and checks
// they are served, while links out of the repository are refused (unless
// external) with a reason naming them, and broken links are reported.
func TestScanFollowsLinks(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "repo")
	store := filepath.Join(dir, "..data") // hidden: the volume's real files
	outside := filepath.Join(base, "elsewhere")
	for _, p := range []string{"..data/spam/1/meta.json", "..data/v/2/meta.json"} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), []byte("{}"), 0o644)
	}
	os.MkdirAll(filepath.Join(outside, "3"), 0o755)
	os.WriteFile(filepath.Join(outside, "3", "meta.json"), []byte("{}"), 0o644)
	link := func(target, name string) {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	link("..data/spam", "spam")                    // a model folder that is a link
	os.MkdirAll(filepath.Join(dir, "mail"), 0o755) // a real model folder …
	link("../..data/v/2", "mail/2")                // … whose version folder is a link
	link(filepath.Join(outside, "3"), "mail/3")    // a version out of the repository
	link(filepath.Join(outside), "ext")            // a model out of the repository
	link(filepath.Join(base, "missing"), "mail/4") // a broken link
	scan := func(external bool) (map[string]string, map[string]string) {
		got, skipped := map[string]string{}, map[string]string{}
		repo, err := scanRepository(dir, external, func(path, why string) { skipped[filepath.Base(filepath.Dir(path))+"/"+filepath.Base(path)] = why })
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range repo {
			for _, v := range m.versions {
				got[m.name+"/"+strconv.FormatInt(v.version, 10)] = v.path
			}
		}
		return got, skipped
	}
	got, skipped := scan(false)
	if got["spam/1"] != filepath.Join(store, "spam", "1") || got["mail/2"] != filepath.Join(store, "v", "2") || len(got) != 2 {
		t.Errorf("served %v", got)
	}
	for _, p := range []string{"mail/3", "repo/ext"} {
		if !strings.Contains(skipped[p], "outside the repository") || !strings.Contains(skipped[p], outside) {
			t.Errorf("%s: skipped %q, want a refusal naming %s", p, skipped[p], outside)
		}
	}
	if !strings.Contains(skipped["mail/4"], "cannot be reached") {
		t.Errorf("broken link: %q", skipped["mail/4"])
	}
	got, _ = scan(true)
	if got["mail/3"] != filepath.Join(outside, "3") || got["ext/3"] != filepath.Join(outside, "3") {
		t.Errorf("with external links: served %v", got)
	}
}
