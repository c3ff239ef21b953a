package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/tapeml/tapeml/internal/safeio"
)

// ModelConfig is a model's DIR/<name>/config.json: which of its versions to
// serve and names for some of them. Without the file, the highest version
// is served.
//
//	{"version_policy": {"latest": {"num_versions": 2}}, "labels": {"stable": 1, "canary": 2}}
//	{"version_policy": {"specific": {"versions": [1, 3]}}}
//	{"version_policy": {"all": {}}}
type ModelConfig struct {
	VersionPolicy VersionPolicy    `json:"version_policy"`
	Labels        map[string]int64 `json:"labels"`
	// Traffic splits the requests that name no version between versions
	// by weight ({"2": 10, "1": 90}); Shadow is a version that gets a copy
	// of each of them (see traffic.go).
	Traffic map[string]int `json:"traffic,omitempty"`
	Shadow  int64          `json:"shadow,omitempty"`
}

// VersionPolicy is Triton's and TensorFlow Serving's version policy: at
// most one of its fields is set; none means Latest 1.
type VersionPolicy struct {
	Latest *struct {
		NumVersions int `json:"num_versions"`
	} `json:"latest,omitempty"`
	Specific *struct {
		Versions []int64 `json:"versions"`
	} `json:"specific,omitempty"`
	All *struct{} `json:"all,omitempty"`
}

// maxConfigBytes bounds a config.json read: a policy is a few lines.
const maxConfigBytes = 1 << 20

// readConfig reads and validates DIR/<name>/config.json; a missing file
// is the default policy. Only a regular file is read (a FIFO or a device
// named config.json is an error, never a blocking open), and at most
// maxConfigBytes of it.
func readConfig(path string) (ModelConfig, error) {
	var c ModelConfig
	data, err := safeio.ReadFile(path, maxConfigBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	p := c.VersionPolicy
	set := 0
	for _, b := range []bool{p.Latest != nil, p.Specific != nil, p.All != nil} {
		if b {
			set++
		}
	}
	switch {
	case set > 1:
		return c, fmt.Errorf("%s: version_policy: set one of latest, specific and all", path)
	case p.Latest != nil && p.Latest.NumVersions < 1:
		return c, fmt.Errorf("%s: version_policy.latest.num_versions must be at least 1, got %d", path, p.Latest.NumVersions)
	case p.Specific != nil && len(p.Specific.Versions) == 0:
		return c, fmt.Errorf("%s: version_policy.specific.versions is empty", path)
	}
	if p.Specific != nil {
		for _, v := range p.Specific.Versions {
			if v < 1 {
				return c, fmt.Errorf("%s: version_policy.specific.versions: %d is not a positive version", path, v)
			}
		}
	}
	for l, v := range c.Labels {
		if l == "" || v < 1 {
			return c, fmt.Errorf("%s: labels: %q → %d: want a name and a positive version", path, l, v)
		}
	}
	return c, c.checkRouting(path)
}

// wants reports whether the policy may serve version v at all (Specific
// names it, or the policy is not Specific).
func (p VersionPolicy) wants(v int64) bool {
	if p.Specific == nil {
		return true
	}
	return slices.Contains(p.Specific.Versions, v)
}

// limit is how many versions to serve, highest first: 0 means no limit.
func (p VersionPolicy) limit() int {
	switch {
	case p.All != nil || p.Specific != nil:
		return 0
	case p.Latest != nil:
		return p.Latest.NumVersions
	}
	return 1
}

// repoModel is one model found in the repository.
type repoModel struct {
	name     string
	config   ModelConfig
	err      error         // config.json unreadable: keep serving what is loaded
	versions []repoVersion // descending
}

// repoVersion is one version folder.
type repoVersion struct {
	version int64
	path    string // what tapeml.Load opens
	sig     string // changes when the folder's files change
}

// scanRepository lists the models of dir. Entries that are not model
// folders (files, hidden names) and version folders whose name is not a
// positive integer are skipped, as TensorFlow Serving does; skip hears of
// each (but hidden names and a model folder's own files) with the reason.
// A model or version folder that is a symbolic link to a folder is
// followed (Kubernetes volumes present files so), but one leading out of
// the repository only with external.
func scanRepository(dir string, external bool, skip func(path, reason string)) ([]repoModel, error) {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, fmt.Errorf("model repository: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("model repository: %w", err)
	}
	var out []repoModel
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		mdir, why := followDir(root, filepath.Join(dir, e.Name()), e, external)
		if why != "" {
			skip(filepath.Join(dir, e.Name()), why)
			continue
		}
		m := repoModel{name: e.Name()}
		m.config, m.err = readConfig(filepath.Join(mdir, "config.json"))
		vs, err := os.ReadDir(mdir)
		if err != nil {
			m.err = err
		}
		for _, v := range vs {
			n, err := strconv.ParseInt(v.Name(), 10, 64)
			if err != nil || n < 1 || strconv.FormatInt(n, 10) != v.Name() {
				if !strings.HasPrefix(v.Name(), ".") && !modelFiles[v.Name()] {
					skip(filepath.Join(mdir, v.Name()), "not a version: the name is not a positive integer")
				}
				continue
			}
			vdir, why := followDir(root, filepath.Join(mdir, v.Name()), v, external)
			if why != "" {
				skip(filepath.Join(mdir, v.Name()), why)
				continue
			}
			path, sig := versionPath(vdir)
			m.versions = append(m.versions, repoVersion{version: n, path: path, sig: sig})
		}
		slices.SortFunc(m.versions, func(a, b repoVersion) int { return int(sign(b.version - a.version)) })
		out = append(out, m)
	}
	return out, nil
}

// modelFiles are a model folder's own files besides its versions:
// config.json and what tapeml publish and promote keep there.
var modelFiles = map[string]bool{"config.json": true, "label-history.json": true, "lock": true}

// followDir returns the folder entry e at path stands for: path itself,
// or a symbolic link's target folder. why says why it is skipped instead:
// not a folder, a broken link, or a link out of the repository root (a
// resolved path) without external.
func followDir(root, path string, e os.DirEntry, external bool) (dir, why string) {
	if e.IsDir() {
		return path, ""
	}
	if e.Type()&os.ModeSymlink == 0 {
		return "", "not a folder"
	}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", fmt.Sprintf("a symbolic link whose target cannot be reached: %v", err)
	}
	if info, err := os.Stat(target); err != nil || !info.IsDir() {
		return "", fmt.Sprintf("a symbolic link to %s, which is not a folder", target)
	}
	if rel, err := filepath.Rel(root, target); !external && (err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator))) {
		return "", fmt.Sprintf("a symbolic link to %s, outside the repository (serve --follow-external-links allows it)", target)
	}
	return target, ""
}

func sign(x int64) int64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

// versionPath returns what to load from a version folder — the folder, or
// the one .safetensors file it holds beside no meta.json — and a signature
// of its files (names, sizes, times) that tells a retry from a repeat.
func versionPath(vdir string) (string, string) {
	var sig strings.Builder
	var tensors []string
	meta := false
	filepath.WalkDir(vdir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			fmt.Fprintf(&sig, "%s:err;", p)
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			fmt.Fprintf(&sig, "%s:%d:%d;", p, fi.Size(), fi.ModTime().UnixNano())
		}
		if filepath.Dir(p) == vdir {
			switch {
			case d.Name() == "meta.json":
				meta = true
			case strings.EqualFold(filepath.Ext(p), ".safetensors"):
				tensors = append(tensors, p)
			}
		}
		return nil
	})
	if !meta && len(tensors) == 1 {
		return tensors[0], sig.String()
	}
	return vdir, sig.String()
}
