package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/tapeml/tapeml/atomicfile"
)

// A repository in an object store (s3://bucket/models, gs://…,
// azblob://…, file:///…) through gocloud.dev/blob: the server mirrors it
// into a local cache before each scan, and the cache is served as a local
// repository is. The program opening the URL must link the driver of its
// scheme (cmd/tapeml links s3blob, gcsblob, azureblob, fileblob).
//
// Mirroring downloads the versions listed at start, and later a new or
// changed version once its listing (names, sizes, times) has stayed the
// same for one poll — objects uploaded one by one are not taken
// half-written — into a hidden folder of the cache, checks every
// object's size against the listing, and renames the folder to its
// number; loading then verifies the checkpoint's checksums. A version
// whose objects add up to more than the size limit is refused with one
// log line. Versions and models gone from the store are removed from the
// cache, and so unloaded. config.json is copied on every change.

// IsObjectStore reports whether a --models value names an object store
// rather than a local folder.
func IsObjectStore(models string) bool {
	scheme, _, ok := strings.Cut(models, "://")
	return ok && scheme != "" && !strings.ContainsAny(scheme, `/\`)
}

// mirror copies an object store's repository into a local cache.
type mirror struct {
	bucket   *blob.Bucket
	prefix   string // "" or "models/"
	cache    string
	maxBytes int64
	log      *slog.Logger

	synced  bool              // a first sync ran: versions listed then are taken at once
	seen    map[string]string // version prefix → its listing at the last poll
	fetched map[string]string // version prefix → the listing in the cache
	refused map[string]string // version prefix → why, logged once
}

func newMirror(bucket *blob.Bucket, prefix, cache string, maxBytes int64, log *slog.Logger) *mirror {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return &mirror{bucket: bucket, prefix: prefix, cache: cache, maxBytes: maxBytes, log: log,
		seen: map[string]string{}, fetched: map[string]string{}, refused: map[string]string{}}
}

// maxObjects bounds the objects of one version: a checkpoint is a few
// files.
const maxObjects = 1000

// sync brings the cache in line with the store.
func (m *mirror) sync(ctx context.Context) error {
	models, err := m.dirs(ctx, m.prefix)
	if err != nil {
		return fmt.Errorf("model repository %s: %w", m.prefix, err)
	}
	defer func() { m.synced = true }()
	keep := map[string]bool{}
	for _, name := range models {
		if strings.HasPrefix(name, ".") || CheckModelName(name) != nil {
			continue
		}
		keep[name] = true
		if err := m.syncModel(ctx, name); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			m.log.Error("mirroring a model", "model", name, "err", err)
		}
	}
	entries, _ := os.ReadDir(m.cache)
	for _, e := range entries {
		if !keep[e.Name()] && !strings.HasPrefix(e.Name(), ".") {
			os.RemoveAll(filepath.Join(m.cache, e.Name()))
		}
	}
	return nil
}

// CheckModelName accepts a model name that is one plain folder name.
func CheckModelName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return fmt.Errorf("%q is not a model name", name)
	}
	return nil
}

// dirs lists the "folders" right under prefix.
func (m *mirror) dirs(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	it := m.bucket.List(&blob.ListOptions{Prefix: prefix, Delimiter: "/"})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if obj.IsDir {
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(obj.Key, prefix), "/"))
		}
		if len(out) > 100_000 {
			return nil, fmt.Errorf("more than 100,000 entries under %q", prefix)
		}
	}
}

func (m *mirror) syncModel(ctx context.Context, name string) error {
	mdir := filepath.Join(m.cache, name)
	if err := os.MkdirAll(mdir, 0o755); err != nil {
		return err
	}
	mprefix := m.prefix + name + "/"
	if err := m.syncConfig(ctx, mprefix+"config.json", filepath.Join(mdir, "config.json")); err != nil {
		return err
	}
	versions, err := m.dirs(ctx, mprefix)
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, v := range versions {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 || strconv.FormatInt(n, 10) != v {
			continue
		}
		keep[v] = true
		if err := m.syncVersion(ctx, mprefix+v+"/", filepath.Join(mdir, v)); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			m.log.Error("mirroring a model version", "model", name, "version", v, "err", err)
		}
	}
	entries, _ := os.ReadDir(mdir)
	for _, e := range entries {
		stale := !m.synced && strings.HasPrefix(e.Name(), ".") // a download a kill interrupted, in a kept cache
		if _, err := strconv.ParseInt(e.Name(), 10, 64); stale || err == nil && !keep[e.Name()] {
			os.RemoveAll(filepath.Join(mdir, e.Name()))
			delete(m.fetched, mprefix+e.Name()+"/")
		}
	}
	return nil
}

// syncConfig copies config.json when it changed; a config.json gone from
// the store is removed from the cache.
func (m *mirror) syncConfig(ctx context.Context, key, local string) error {
	attrs, err := m.bucket.Attributes(ctx, key)
	if err != nil {
		if isNotFound(err) {
			os.Remove(local)
			return nil
		}
		return err
	}
	if attrs.Size > maxConfigBytes {
		return fmt.Errorf("%s: %d bytes, more than %d", key, attrs.Size, maxConfigBytes)
	}
	b, err := m.bucket.ReadAll(ctx, key)
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(local); err == nil && string(old) == string(b) {
		return nil
	}
	return atomicfile.WriteFile(local, func(w io.Writer) error { _, err := w.Write(b); return err })
}

type object struct {
	key  string
	size int64
}

// syncVersion downloads a version not in the cache, or whose objects
// changed, once its listing is stable.
func (m *mirror) syncVersion(ctx context.Context, prefix, local string) error {
	var objs []object
	var total int64
	var listing strings.Builder
	it := m.bucket.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if obj.IsDir {
			continue
		}
		rel := strings.TrimPrefix(obj.Key, prefix)
		if rel == "" || strings.HasPrefix(rel, "/") || slices.Contains(strings.Split(rel, "/"), "..") {
			return fmt.Errorf("object %q: not a file name under the version", obj.Key)
		}
		objs = append(objs, object{obj.Key, obj.Size})
		total += obj.Size
		fmt.Fprintf(&listing, "%s:%d:%d;", rel, obj.Size, obj.ModTime.UnixNano())
		if len(objs) > maxObjects {
			return fmt.Errorf("more than %d objects under %s", maxObjects, prefix)
		}
	}
	sig := listing.String()
	if m.fetched[prefix] == sig {
		return nil // in the cache as listed
	}
	if m.maxBytes > 0 && total > m.maxBytes {
		why := fmt.Sprintf("%d bytes, more than the %d-byte limit (--max-version-bytes)", total, m.maxBytes)
		if m.refused[prefix] != why {
			m.log.Error("model version refused", "object", prefix, "reason", why)
			m.refused[prefix] = why
		}
		return nil
	}
	delete(m.refused, prefix)
	prev, ok := m.seen[prefix]
	m.seen[prefix] = sig
	if m.synced && (!ok || prev != sig) {
		return nil // new or still changing: wait for one quiet poll
	}
	tmp, err := os.MkdirTemp(filepath.Dir(local), ".download-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, o := range objs {
		if err := m.download(ctx, o, filepath.Join(tmp, filepath.FromSlash(strings.TrimPrefix(o.key, prefix)))); err != nil {
			return err
		}
	}
	if err := atomicfile.SyncDir(tmp); err != nil {
		return err
	}
	if _, err := os.Stat(local); err == nil { // the store's objects changed: replace
		old := filepath.Join(filepath.Dir(local), "."+filepath.Base(local)+".old")
		os.RemoveAll(old)
		if err := os.Rename(local, old); err != nil {
			return err
		}
		defer os.RemoveAll(old)
	}
	if err := os.Rename(tmp, local); err != nil {
		return err
	}
	m.fetched[prefix] = sig
	m.log.Info("model version downloaded", "object", prefix, "bytes", total, "files", len(objs))
	return nil
}

// download copies one object to a new file, which must end up with the
// listed size (an object replaced meanwhile is caught here, or by the
// checkpoint's checksums when it loads).
func (m *mirror) download(ctx context.Context, o object, to string) error {
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	r, err := m.bucket.NewReader(ctx, o.key, nil)
	if err != nil {
		return err
	}
	defer r.Close()
	f, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, io.LimitReader(r, o.size+1))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != o.size {
		err = fmt.Errorf("%s: read %d bytes, the listing says %d", o.key, n, o.size)
	}
	return err
}

func isNotFound(err error) bool { return gcerrors.Code(err) == gcerrors.NotFound }

// openStore opens the bucket of an object-store URL and the key prefix of
// the repository in it: the URL's path, except for file:// URLs, whose
// path is the bucket itself.
func openStore(ctx context.Context, models string) (*blob.Bucket, string, error) {
	u, err := url.Parse(models)
	if err != nil {
		return nil, "", fmt.Errorf("model repository %q: %w", models, err)
	}
	prefix := ""
	if u.Scheme != "file" {
		prefix = strings.Trim(u.Path, "/")
		u.Path = ""
	}
	b, err := blob.OpenBucket(ctx, u.String())
	if err != nil {
		if strings.Contains(err.Error(), "no driver registered") {
			return nil, "", fmt.Errorf("model repository %q: this program has no %s:// driver (tapeml: build with -tags cloud for s3, gs and azblob): %w", models, u.Scheme, err)
		}
		return nil, "", fmt.Errorf("model repository %q: %w", models, err)
	}
	return b, prefix, nil
}
