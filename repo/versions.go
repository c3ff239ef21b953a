package repo

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tapeml/tapeml/internal/safeio"
)

// VersionInfo describes one version folder of a model.
type VersionInfo struct {
	Version int64    `json:"version"`
	Path    string   `json:"path"`
	Labels  []string `json:"labels,omitempty"`
	// Card is the version's model card; CardError says why there is none
	// (a version copied in by hand has none).
	Card      *Card  `json:"card,omitempty"`
	CardError string `json:"card_error,omitempty"`
	// Size is the bytes of the folder's files.
	Size int64 `json:"size"`
	// Created is the card's time, or the folder's modification time.
	Created time.Time `json:"created"`
	// State is the version's state in a running server (ServerStates):
	// "AVAILABLE", "FAILED: reason" or "not loaded"; "" when not asked.
	State string `json:"state,omitempty"`
}

// List describes every version of the model in the repository, highest
// first, with its labels from config.json.
func List(repoDir, name string) ([]VersionInfo, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	mdir := filepath.Join(repoDir, name)
	entries, err := os.ReadDir(mdir)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	_, labels, err := readConfigLabels(mdir)
	if err != nil {
		return nil, err
	}
	byVersion := map[int64][]string{}
	for l, v := range labels {
		byVersion[v] = append(byVersion[v], l)
	}
	var out []VersionInfo
	for _, e := range entries {
		n, ok := parseVersion(e.Name())
		if !ok {
			continue
		}
		vdir := filepath.Join(mdir, e.Name())
		info, err := os.Stat(vdir) // a link to a folder counts
		if err != nil || !info.IsDir() {
			continue
		}
		v := VersionInfo{Version: n, Path: vdir, Created: info.ModTime().UTC()}
		v.Labels = byVersion[n]
		sort.Strings(v.Labels)
		v.Size = folderSize(vdir)
		if c, err := ReadCard(filepath.Join(vdir, CardFile)); err == nil {
			v.Card, v.Created = c, c.Created
		} else if errors.Is(err, fs.ErrNotExist) {
			v.CardError = "no " + CardFile
		} else {
			v.CardError = err.Error()
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b VersionInfo) int { return cmp.Compare(b.Version, a.Version) })
	return out, nil
}

func folderSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// maxStatusBytes bounds a server's answer about one model's versions.
const maxStatusBytes = 1 << 20

// ServerStates asks a running tapeml (or TensorFlow Serving) server at
// base (http://host:port) for the model's versions through the v1 status
// endpoint, GET /v1/models/NAME, and returns each version's state.
func ServerStates(ctx context.Context, client *http.Client, base, name string) (map[int64]string, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server %q: want http://host:port or https://host:port", base)
	}
	u = u.JoinPath("v1", "models", name)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("server %s: %w", base, err)
	}
	defer resp.Body.Close()
	body, err := safeio.ReadAll(resp.Body, 0, maxStatusBytes)
	if err != nil {
		return nil, fmt.Errorf("server %s: %w", base, err)
	}
	if resp.StatusCode == http.StatusNotFound {
		return map[int64]string{}, nil // the server does not serve the model
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("server %s: GET %s: %s: %.200s", base, u.Path, resp.Status, body)
	}
	var status struct {
		Versions []struct {
			Version string `json:"version"`
			State   string `json:"state"`
			Status  struct {
				ErrorMessage string `json:"error_message"`
			} `json:"status"`
		} `json:"model_version_status"`
	}
	if err := json.Unmarshal(body, &status); err != nil {
		return nil, fmt.Errorf("server %s: GET %s: %w", base, u.Path, err)
	}
	out := map[int64]string{}
	for _, v := range status.Versions {
		n, err := strconv.ParseInt(v.Version, 10, 64)
		if err != nil {
			continue
		}
		s := v.State
		if v.Status.ErrorMessage != "" {
			s += ": " + v.Status.ErrorMessage
		}
		out[n] = s
	}
	return out, nil
}
