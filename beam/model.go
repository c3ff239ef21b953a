package tapebeam

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/tapeml/tapeml"
	_ "github.com/tapeml/tapeml/models/all" // the workers load any built-in kind
)

// MaxModelBytes bounds what is copied from a remote filesystem for one
// model (every file of a checkpoint folder together): 4 GiB.
const MaxModelBytes int64 = 4 << 30

// models holds one loaded model per path for the whole process, so every
// DoFn instance of a worker shares it.
var models struct {
	mu sync.Mutex
	m  map[string]*modelEntry
}

type modelEntry struct {
	once  sync.Once
	model *tapeml.Model
	err   error
}

// withModel is the model part of every DoFn here: the path, which is
// serialized with the DoFn, and the model its Setup loads (once per
// process, shared).
type withModel struct {
	ModelPath string
	model     *tapeml.Model
}

func (f *withModel) Setup(ctx context.Context) (err error) {
	f.model, err = loadModel(ctx, f.ModelPath)
	return err
}

// loadModel loads the model at path once per process. A path with a
// scheme (gs://, s3://, memfs://, ...) is copied to a local temporary
// folder first.
func loadModel(ctx context.Context, p string) (*tapeml.Model, error) {
	models.mu.Lock()
	if models.m == nil {
		models.m = map[string]*modelEntry{}
	}
	e, ok := models.m[p]
	if !ok {
		e = &modelEntry{}
		models.m[p] = e
	}
	models.mu.Unlock()
	e.once.Do(func() { e.model, e.err = openModel(ctx, p) })
	return e.model, e.err
}

func openModel(ctx context.Context, p string) (*tapeml.Model, error) {
	if !strings.Contains(p, "://") {
		return tapeml.Load(p)
	}
	dir, err := os.MkdirTemp("", "tapeml-model-")
	if err != nil {
		return nil, fmt.Errorf("tapebeam: model %s: %w", p, err)
	}
	local, err := copyModel(ctx, p, dir, MaxModelBytes)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	m, err := tapeml.Load(local)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return m, nil // the copy stays while the process uses the model
}

// copyModel copies a remote .safetensors file, or the files of a remote
// checkpoint folder (path/*), into dir, at most limit bytes in all, and
// returns the local path to load.
func copyModel(ctx context.Context, p, dir string, limit int64) (string, error) {
	fs, err := filesystem.New(ctx, p)
	if err != nil {
		return "", fmt.Errorf("tapebeam: model %s: %w", p, err)
	}
	defer fs.Close()
	p = strings.TrimSuffix(p, "/")
	var files []string
	local := dir
	if strings.EqualFold(path.Ext(p), ".safetensors") {
		files = []string{p}
		local = filepath.Join(dir, path.Base(p))
	} else if files, err = fs.List(ctx, p+"/*"); err != nil {
		return "", fmt.Errorf("tapebeam: model %s: listing: %w", p, err)
	}
	if len(files) == 0 {
		return "", fmt.Errorf("tapebeam: model %s: no such file or checkpoint folder", p)
	}
	var total int64
	for _, f := range files {
		n, err := copyFile(ctx, fs, f, filepath.Join(dir, path.Base(f)), limit-total)
		if n > limit-total {
			return "", fmt.Errorf("tapebeam: model %s: larger than %d bytes (at %s)", p, limit, f)
		}
		if err != nil {
			return "", fmt.Errorf("tapebeam: model %s: %w", p, err)
		}
		total += n
	}
	return local, nil
}

// copyFile copies one file, stopping past limit bytes: n > limit means
// the file is larger.
func copyFile(ctx context.Context, fs filesystem.Interface, from, to string, limit int64) (int64, error) {
	r, err := fs.OpenRead(ctx, from)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", from, err)
	}
	defer r.Close()
	w, err := os.Create(to)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(w, io.LimitReader(r, limit+1))
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("%s: %w", from, err)
	}
	return n, nil
}
