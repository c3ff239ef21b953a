package serve

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tapeml/tapeml"
)

// version is one loaded model version. Requests hold it between acquire
// and release; once it leaves the served set it is drained — no new
// request may acquire it, those in flight finish — and then released.
type version struct {
	model   string
	num     int64
	path    string
	m       *tapeml.Model
	batch   *batcher // nil for models whose requests do not merge (recommenders), which answer directly
	created time.Time
	card    *cardFields // the model card's main fields; nil without a card

	mu       sync.Mutex
	closed   bool
	inflight int
	idle     chan struct{} // closed when closed and no request is in flight
}

func (v *version) acquire() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return false
	}
	v.inflight++
	return true
}

func (v *version) release() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.inflight--
	if v.closed && v.inflight == 0 {
		close(v.idle)
	}
}

// drain stops new requests and waits for those in flight.
func (v *version) drain() {
	v.mu.Lock()
	if !v.closed {
		v.closed = true
		if v.inflight == 0 {
			close(v.idle)
		}
	}
	v.mu.Unlock()
	<-v.idle
	if v.batch != nil {
		v.batch.stop()
	}
}

// modelState is one model as served: its loaded versions, labels and the
// versions that failed to load.
type modelState struct {
	name      string
	versions  map[int64]*version
	order     []int64 // loaded versions, descending
	labels    map[string]int64
	traffic   *split // nil: requests naming no version get top
	shadow    int64  // 0: none
	top       int64  // the highest loaded version the policy selected (not only pinned)
	failed    map[int64]loadFailure
	configErr error
}

type loadFailure struct {
	sig string
	err error
	msg string // err as clients see it: paths relative to the repository
	at  time.Time
}

// snapshot is the served set: replaced as a whole, never modified, so
// that a request sees one consistent repository.
type snapshot struct {
	models map[string]*modelState
	names  []string // sorted
}

// ManagerOptions configures a Manager.
type ManagerOptions struct {
	MaxBatch int           // largest batch (default 32)
	MaxDelay time.Duration // longest a request waits for others to join its batch
	Workers  int           // batches run at once per version (default GOMAXPROCS)
	Logger   *slog.Logger
	// FollowExternalLinks serves model and version folders that are
	// symbolic links to folders outside the repository.
	FollowExternalLinks bool
}

// Manager keeps a repository's models loaded: Reload brings the served
// set in line with the directory.
type Manager struct {
	dir  string
	dirs []string // dir as given, absolute and without links: how errors may spell it
	opt  ManagerOptions
	log  *slog.Logger
	met  *metrics
	snap atomic.Pointer[snapshot]

	reloadMu  sync.Mutex // one reload at a time
	failures  map[string]map[int64]loadFailure
	configErr map[string]string // last logged config error per model
	draining  sync.WaitGroup
	ready     atomic.Bool
	routing   *routingMetrics   // nil: not counted
	skipped   map[string]string // repository entries skipped at the last scan, and why: each is logged once
	mirror    *mirror           // an object store mirrored into dir before each scan; nil for a local repository
}

func newManager(dir string, opt ManagerOptions, met *metrics) *Manager {
	if opt.MaxBatch < 1 {
		opt.MaxBatch = 32
	}
	if opt.Workers < 1 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	m := &Manager{dir: dir, dirs: spellings(dir), opt: opt, log: opt.Logger, met: met,
		failures: map[string]map[int64]loadFailure{}, configErr: map[string]string{}}
	m.snap.Store(&snapshot{models: map[string]*modelState{}})
	return m
}

// Reload scans the repository, loads and warms up the versions to serve
// that are new, swaps the served set, and drains the versions left out.
// A version that fails to load is recorded and retried only once its
// files change; it never displaces a loaded version.
func (m *Manager) Reload(ctx context.Context) error {
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()
	if m.mirror != nil {
		if err := m.mirror.sync(ctx); err != nil {
			m.log.Error("mirroring the model repository", "err", err)
			if ctx.Err() != nil {
				return err
			}
		}
	}
	skipped := map[string]string{}
	repo, err := scanRepository(m.dir, m.opt.FollowExternalLinks, func(path, why string) {
		skipped[path] = why
		if m.skipped[path] != why {
			m.log.Warn("skipped in the model repository", "path", path, "reason", why)
		}
	})
	m.skipped = skipped
	if err != nil {
		m.log.Error("scanning the model repository", "dir", m.dir, "err", err)
		return err
	}
	old := m.snap.Load()
	next := &snapshot{models: map[string]*modelState{}}
	failures := map[string]map[int64]loadFailure{}
	for _, rm := range repo {
		prev := old.models[rm.name]
		ms := &modelState{name: rm.name, versions: map[int64]*version{}, labels: rm.config.Labels, failed: map[int64]loadFailure{},
			traffic: newSplit(rm.config.Traffic), shadow: rm.config.Shadow}
		failures[rm.name] = map[int64]loadFailure{}
		if rm.err != nil {
			// A config being edited: keep serving what was served.
			if msg := rm.err.Error(); m.configErr[rm.name] != msg {
				m.log.Error("model config", "model", rm.name, "err", rm.err)
				m.configErr[rm.name] = msg
			}
			ms.configErr = rm.err
			if prev != nil {
				ms.versions, ms.labels, ms.failed = prev.versions, prev.labels, prev.failed
				ms.traffic, ms.shadow, ms.top = prev.traffic, prev.shadow, prev.top
				failures[rm.name] = m.failures[rm.name]
			}
			ms.order = slices.Sorted(maps.Keys(ms.versions))
			slices.Reverse(ms.order)
			next.models[rm.name] = ms
			continue
		}
		delete(m.configErr, rm.name)
		policy := rm.config.VersionPolicy
		limit := policy.limit()
		pinned := rm.config.pinned() // labelled, in the traffic split or the shadow: loaded whatever the policy
		byPolicy := 0                // versions the policy selected that are loaded
		for _, rv := range rm.versions {
			selected := (limit == 0 || byPolicy < limit) && policy.wants(rv.version)
			if !selected && !pinned[rv.version] {
				continue
			}
			if prev != nil && prev.versions[rv.version] != nil {
				ms.versions[rv.version] = prev.versions[rv.version]
				if selected {
					byPolicy++
					ms.top = max(ms.top, rv.version)
				}
				continue
			}
			if f, ok := m.failures[rm.name][rv.version]; ok && f.sig == rv.sig {
				ms.failed[rv.version], failures[rm.name][rv.version] = f, f
				continue
			}
			v, err := m.load(ctx, rm.name, rv)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				f := loadFailure{sig: rv.sig, err: err, msg: relativeTo(m.dirs, err.Error()), at: time.Now()}
				ms.failed[rv.version], failures[rm.name][rv.version] = f, f
				m.met.reloadErr.WithLabelValues(rm.name).Inc()
				m.log.Error("model version failed to load", "model", rm.name, "version", rv.version, "path", rv.path, "err", err)
				continue
			}
			ms.versions[rv.version] = v
			if selected {
				byPolicy++
				ms.top = max(ms.top, rv.version)
			}
		}
		ms.order = slices.Sorted(maps.Keys(ms.versions))
		slices.Reverse(ms.order)
		next.models[rm.name] = ms
	}
	next.names = slices.Sorted(maps.Keys(next.models))
	m.failures = failures
	m.snap.Store(next)

	for _, name := range next.names {
		m.met.loaded.WithLabelValues(name).Set(float64(len(next.models[name].versions)))
	}
	for name, prev := range old.models {
		ms := next.models[name]
		if ms == nil {
			m.met.loaded.DeleteLabelValues(name)
		}
		for num, v := range prev.versions {
			if ms == nil || ms.versions[num] != v {
				m.retire(v)
			}
		}
	}
	m.ready.Store(true)
	return nil
}

// load opens, warms up and wraps one version.
func (m *Manager) load(ctx context.Context, name string, rv repoVersion) (*version, error) {
	start := time.Now()
	// As many machines per batch size as batches run at once, all
	// compiled and run here: the first requests after the swap meet no
	// compilation.
	tm, err := tapeml.LoadWithOptions(rv.path, tapeml.Options{MaxBatch: m.opt.MaxBatch, MachinesPerBucket: m.opt.Workers})
	if err != nil {
		return nil, err
	}
	if err := tm.WarmupConcurrent(ctx, m.opt.Workers); err != nil {
		return nil, fmt.Errorf("warming up: %w", err)
	}
	v := &version{model: name, num: rv.version, path: rv.path, m: tm, created: time.Now(), idle: make(chan struct{}), card: readCard(rv.path)}
	if tm.Signature().Batchable {
		v.batch = newBatcher(tm, m.opt.MaxBatch, m.opt.MaxDelay, m.opt.Workers, m.met.forVersion(name, rv.version))
	}
	m.log.Info("model version loaded", "model", name, "version", rv.version, "kind", tm.Kind(), "path", rv.path,
		"machines", tm.CompiledMachines(), "duration", time.Since(start).Round(time.Millisecond).String())
	return v, nil
}

// retire drains a version left out of the served set, in the background.
func (m *Manager) retire(v *version) {
	m.draining.Add(1)
	go func() {
		defer m.draining.Done()
		start := time.Now()
		v.drain()
		m.met.forget(v.model, v.num)
		m.log.Info("model version unloaded", "model", v.model, "version", v.num, "drained", time.Since(start).Round(time.Millisecond).String())
	}()
}

// Close drains and releases every version; requests in flight finish.
func (m *Manager) Close() {
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()
	old := m.snap.Swap(&snapshot{models: map[string]*modelState{}})
	for _, ms := range old.models {
		for _, v := range ms.versions {
			m.retire(v)
		}
	}
	m.draining.Wait()
	m.ready.Store(false)
}

// Poll reloads every interval until ctx ends.
func (m *Manager) Poll(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.Reload(ctx)
		}
	}
}

// selector names a version in a request: a number, a label, or neither
// (the highest loaded version).
type selector struct {
	num   int64
	label string
	split bool   // an inference naming no version: the traffic split applies
	key   string // the sticky header's value: a traffic split routes it to the same version every time
}

func (s selector) String() string {
	switch {
	case s.num > 0:
		return fmt.Sprintf("version %d", s.num)
	case s.label != "":
		return fmt.Sprintf("label %q", s.label)
	}
	return "the default version"
}

// acquire finds and holds the version a request names. A version retired
// between lookup and hold is looked up again in the new served set, so a
// reload never fails a request.
func (m *Manager) acquire(name string, sel selector) (*version, error) {
	for range 8 {
		v, err := m.lookup(m.snap.Load(), name, sel)
		if err != nil {
			return nil, err
		}
		if v.acquire() {
			return v, nil
		}
		runtime.Gosched()
	}
	return nil, errorf(http.StatusServiceUnavailable, "model %q %s is being unloaded", name, sel)
}

func (m *Manager) lookup(s *snapshot, name string, sel selector) (*version, error) {
	ms := s.models[name]
	if ms == nil {
		return nil, errorf(http.StatusNotFound, "unknown model %q", name)
	}
	num := sel.num
	if sel.label != "" {
		n, ok := ms.labels[sel.label]
		if !ok {
			return nil, errorf(http.StatusNotFound, "model %q has no label %q", name, sel.label)
		}
		num = n
	}
	if num == 0 {
		if num = m.route(ms, sel); num == 0 {
			return nil, errorf(http.StatusServiceUnavailable, "model %q has no version loaded", name)
		}
	}
	if v := ms.versions[num]; v != nil {
		return v, nil
	}
	if f, ok := ms.failed[num]; ok {
		return nil, errorf(http.StatusServiceUnavailable, "model %q version %d failed to load: %s", name, num, f.msg)
	}
	return nil, errorf(http.StatusNotFound, "model %q has no version %d loaded", name, num)
}

// spellings lists the ways a path may appear in errors: as given,
// absolute, and with its links resolved — longest first.
func spellings(dir string) []string {
	out := []string{filepath.Clean(dir)}
	if abs, err := filepath.Abs(dir); err == nil {
		out = append(out, abs)
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			out = append(out, real)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return slices.Compact(out)
}
