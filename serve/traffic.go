package serve

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	grpcmd "google.golang.org/grpc/metadata"

	"github.com/tapeml/tapeml/api"
)

// Canaries and shadows. A model's config.json may split the requests that
// name no version between versions by weight (KServe's
// canaryTrafficPercent, generalized), and send a copy of each such request
// to a shadow version whose answers are compared, never returned:
//
//	{"traffic": {"2": 10, "1": 90}, "shadow": 3}
//
// With Config.StickyHeader, a request carrying that header goes to the
// version its value hashes to, the same every time (A/B tests); without
// the header, or without the option, the choice is random by weight.
// Versions named by labels, traffic and shadow are loaded whatever the
// version policy says, so that what config.json routes to is served.

// maxTrafficVersions bounds a traffic split: a handful of versions.
const maxTrafficVersions = 16

// checkRouting validates config.json's traffic and shadow.
func (c *ModelConfig) checkRouting(path string) error {
	if len(c.Traffic) > maxTrafficVersions {
		return fmt.Errorf("%s: traffic: %d versions, at most %d", path, len(c.Traffic), maxTrafficVersions)
	}
	total := 0
	for k, w := range c.Traffic {
		n, err := strconv.ParseInt(k, 10, 64)
		if err != nil || n < 1 || strconv.FormatInt(n, 10) != k {
			return fmt.Errorf("%s: traffic: %q is not a version number", path, k)
		}
		if w < 0 || w > 1_000_000 {
			return fmt.Errorf("%s: traffic: version %s has weight %d; want 0 to 1000000", path, k, w)
		}
		total += w
	}
	if len(c.Traffic) > 0 && total == 0 {
		return fmt.Errorf("%s: traffic: the weights add up to 0", path)
	}
	if c.Shadow < 0 {
		return fmt.Errorf("%s: shadow: %d is not a version number", path, c.Shadow)
	}
	return nil
}

// pinned lists the versions config.json routes to, which are loaded
// besides those of the version policy.
func (c *ModelConfig) pinned() map[int64]bool {
	out := map[int64]bool{}
	for _, v := range c.Labels {
		out[v] = true
	}
	for k, w := range c.Traffic {
		if n, err := strconv.ParseInt(k, 10, 64); err == nil && w > 0 {
			out[n] = true
		}
	}
	if c.Shadow > 0 {
		out[c.Shadow] = true
	}
	return out
}

// split is a model's traffic split, versions ascending.
type split struct {
	versions []int64
	weights  []int
}

func newSplit(traffic map[string]int) *split {
	if len(traffic) == 0 {
		return nil
	}
	s := &split{}
	for k := range traffic {
		n, _ := strconv.ParseInt(k, 10, 64)
		s.versions = append(s.versions, n)
	}
	slices.Sort(s.versions)
	for _, n := range s.versions {
		s.weights = append(s.weights, traffic[strconv.FormatInt(n, 10)])
	}
	return s
}

// pick chooses a version among the loaded ones of the split (the weights
// of the others are left out, so a canary that failed to load takes no
// traffic): by the hash of key when it is not empty, else at random. It
// returns 0 when no version of the split is loaded.
func (s *split) pick(loaded map[int64]*version, key string) int64 {
	total := 0
	for i, n := range s.versions {
		if loaded[n] != nil {
			total += s.weights[i]
		}
	}
	if total == 0 {
		return 0
	}
	var x int
	if key != "" {
		h := fnv.New64a()
		h.Write([]byte(key))
		x = int(h.Sum64() % uint64(total))
	} else {
		x = rand.IntN(total)
	}
	for i, n := range s.versions {
		if loaded[n] == nil {
			continue
		}
		if x < s.weights[i] {
			return n
		}
		x -= s.weights[i]
	}
	return 0 // not reached
}

// routingMetrics count canary routing and shadow comparisons:
//
//	tapeml_traffic_routed_total{model,version,mode}   requests naming no version routed by a traffic split (mode: weighted, sticky)
//	tapeml_shadow_requests_total{model,version}       copies answered by the shadow version
//	tapeml_shadow_examples_total{model,version}       examples the shadow answered
//	tapeml_shadow_disagreements_total{model,version}  examples whose shadow answer differs from the one returned
//	tapeml_shadow_skipped_total{model,reason}         copies not sent (busy: the shadow bound was reached) or failed
type routingMetrics struct {
	routed, shadowed, examples, disagree, skipped *prometheus.CounterVec
}

func newRoutingMetrics(reg *prometheus.Registry) *routingMetrics {
	mv := []string{"model", "version"}
	r := &routingMetrics{
		routed:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tapeml_traffic_routed_total", Help: "Requests naming no version routed by the model's traffic split, by version and mode (weighted or sticky)."}, append(mv, "mode")),
		shadowed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tapeml_shadow_requests_total", Help: "Request copies answered by the shadow version."}, mv),
		examples: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tapeml_shadow_examples_total", Help: "Examples the shadow version answered."}, mv),
		disagree: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tapeml_shadow_disagreements_total", Help: "Examples whose shadow answer differs from the answer returned."}, mv),
		skipped:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tapeml_shadow_skipped_total", Help: "Request copies the shadow did not answer: busy (the bound on shadow work was reached), limit (over a request limit for the shadow version) or failed."}, []string{"model", "reason"}),
	}
	reg.MustRegister(r.routed, r.shadowed, r.examples, r.disagree, r.skipped)
	return r
}

// routed marks an inference request's selector for the traffic split,
// with the sticky header's value.
func (s *Server) routed(r *http.Request, sel selector) selector {
	key := ""
	if s.cfg.StickyHeader != "" {
		key = r.Header.Get(s.cfg.StickyHeader)
	}
	return splitBy(sel, key)
}

// grpcRouted is routed for a gRPC call: the sticky header is the
// metadata key of that name (gRPC's keys are lower case; Get folds it).
func (s *Server) grpcRouted(ctx context.Context, sel selector) selector {
	key := ""
	if s.cfg.StickyHeader != "" {
		if md, ok := grpcmd.FromIncomingContext(ctx); ok {
			if v := md.Get(s.cfg.StickyHeader); len(v) > 0 {
				key = v[0]
			}
		}
	}
	return splitBy(sel, key)
}

// splitBy marks sel for the traffic split when it names no version, with
// the sticky key (empty: at random by weight).
func splitBy(sel selector, key string) selector {
	sel.split = sel.num == 0 && sel.label == ""
	sel.key = key
	return sel
}

// shadowTimeout bounds one shadow copy's work, within the server's
// WriteTimeout (a request's own budget).
const shadowTimeout = 30 * time.Second

// shadow sends a copy of a request that named no version, answered by
// primary with out, to the model's shadow version, if it has one loaded
// and a slot is free: at most Config.ShadowConcurrency copies run at
// once, and copies beyond are skipped and counted, so shadowing never
// queues work the server cannot do. A copy is of a request the server
// admitted (its token, the model's max-concurrent-requests gate, its
// limits), and is bounded again by the limits as the shadow version
// counts its cost, by min(shadowTimeout, WriteTimeout), and by shutdown.
// It takes no place in the gate: a shadow never turns a request away.
// The comparison is logged, with the request's id, and counted; the
// request's answer does not wait for it.
func (s *Server) shadow(ctx context.Context, sel selector, primary *version, in, out []api.Tensor) {
	name := primary.model
	if !sel.split {
		return
	}
	ms := s.man.snap.Load().models[name]
	if ms == nil || ms.shadow == 0 || ms.shadow == primary.num {
		return
	}
	select {
	case s.shadowSlots <- struct{}{}:
	default:
		s.routing.skipped.WithLabelValues(name, "busy").Inc()
		return
	}
	sv, err := s.man.acquire(name, selector{num: ms.shadow})
	if err != nil {
		<-s.shadowSlots
		s.routing.skipped.WithLabelValues(name, "failed").Inc()
		return
	}
	id := requestID(ctx)
	go func() {
		defer func() { <-s.shadowSlots }()
		defer sv.release()
		ctx, cancel := context.WithTimeout(withRequestID(s.shadowCtx, id), min(shadowTimeout, s.cfg.WriteTimeout))
		defer cancel()
		got, err := s.run(ctx, sv, in)
		if err != nil {
			reason := "failed"
			if _, over := errors.AsType[*LimitError](err); over {
				reason = "limit"
			}
			s.routing.skipped.WithLabelValues(name, reason).Inc()
			s.log.Warn("shadow request failed", "id", id, "model", name, "version", sv.num, "err", err)
			return
		}
		n, differ := disagreements(out, got)
		v := strconv.FormatInt(sv.num, 10)
		s.routing.shadowed.WithLabelValues(name, v).Inc()
		s.routing.examples.WithLabelValues(name, v).Add(float64(n))
		s.routing.disagree.WithLabelValues(name, v).Add(float64(differ))
		if differ > 0 {
			s.log.Info("shadow disagrees", "id", id, "model", name, "version", primary.num, "shadow", sv.num, "examples", n, "disagreements", differ)
		}
	}()
}

// disagreements counts the examples (rows) of two answers that differ:
// by their integer and string outputs (a classifier's label and class)
// when the answers have any, else by the index of each row's largest
// value of the first output (a score or probability vector). It returns
// the rows compared and how many differ.
func disagreements(a, b []api.Tensor) (rows, differ int) {
	if len(a) == 0 || len(a) != len(b) || len(a[0].Shape) == 0 {
		return 0, 0
	}
	rows = int(a[0].Shape[0])
	discrete := false
	diff := make([]bool, rows)
	for i := range a {
		x, y := a[i], b[i]
		if x.Name != y.Name || len(x.Shape) == 0 || int(x.Shape[0]) != rows || (x.Datatype != "INT32" && x.Datatype != "BYTES") {
			continue
		}
		discrete = true
		for r := range rows {
			if !rowEqual(x, y, r, rows) {
				diff[r] = true
			}
		}
	}
	if !discrete {
		x, y := a[0], b[0]
		if len(x.FP32) != len(y.FP32) || rows == 0 || len(x.FP32)%rows != 0 {
			return rows, rows
		}
		w := len(x.FP32) / rows
		for r := range rows {
			diff[r] = argmax32(x.FP32[r*w:(r+1)*w]) != argmax32(y.FP32[r*w:(r+1)*w])
		}
	}
	for _, d := range diff {
		if d {
			differ++
		}
	}
	return rows, differ
}

func rowEqual(x, y api.Tensor, r, rows int) bool {
	switch x.Datatype {
	case "INT32":
		if len(x.INT32) != len(y.INT32) || len(x.INT32)%rows != 0 {
			return false
		}
		w := len(x.INT32) / rows
		return slices.Equal(x.INT32[r*w:(r+1)*w], y.INT32[r*w:(r+1)*w])
	case "BYTES":
		if len(x.Bytes) != len(y.Bytes) || len(x.Bytes)%rows != 0 {
			return false
		}
		w := len(x.Bytes) / rows
		for i := r * w; i < (r+1)*w; i++ {
			if string(x.Bytes[i]) != string(y.Bytes[i]) {
				return false
			}
		}
		return true
	}
	return true
}

func argmax32(p []float32) int {
	best := 0
	for j, v := range p {
		if v > p[best] {
			best = j
		}
	}
	return best
}

// route is the version a request naming no version gets: by the traffic
// split when the model has one with a version loaded, else the highest
// version the policy selected (a shadow or a labelled older version is
// loaded without being the default).
func (m *Manager) route(ms *modelState, sel selector) int64 {
	key := sel.key
	if ms.traffic != nil && sel.split {
		if n := ms.traffic.pick(ms.versions, key); n != 0 {
			mode := "weighted"
			if key != "" {
				mode = "sticky"
			}
			if m.routing != nil {
				m.routing.routed.WithLabelValues(ms.name, strconv.FormatInt(n, 10), mode).Inc()
			}
			return n
		}
	}
	if ms.top != 0 {
		return ms.top
	}
	if len(ms.order) == 0 {
		return 0
	}
	return ms.order[0] // only pinned versions loaded
}
