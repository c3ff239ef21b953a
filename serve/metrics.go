package serve

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus metrics. Their names follow
// Triton's (nv_inference_*), which dashboards for model servers already
// read, with the prefix tapeml_ and durations in seconds as Prometheus
// prefers:
//
//	tapeml_inference_request_success{model,version}       requests answered 200 (Triton: nv_inference_request_success)
//	tapeml_inference_request_failure{model,version,code}  requests answered with an error (nv_inference_request_failure)
//	tapeml_inference_count{model,version}                 examples inferred (nv_inference_count)
//	tapeml_inference_exec_count{model,version}            batches executed (nv_inference_exec_count); count/exec_count is the average batch size
//	tapeml_inference_queue_duration_seconds{model,version}    histogram: time a request waited for its batch
//	tapeml_inference_compute_duration_seconds{model,version}  histogram: time a batch ran
//	tapeml_inference_request_duration_seconds{model,version}  histogram: time from request to answer (TF Serving: :tensorflow:serving:request_latency)
//	tapeml_model_versions_loaded{model}                   versions being served
//	tapeml_model_reload_failures_total{model}             versions that failed to load
//	tapeml_http_requests_total{code}                      every HTTP answer, including those naming no known model
//	tapeml_grpc_requests_total{method,code}               every gRPC answer
//	tapeml_connections_open{protocol}                     connections open (http, grpc)
//	tapeml_connections_evicted_total{protocol}            idle connections closed to make room for a new one
//	tapeml_connections_refused_total{protocol}            new connections closed at once: every open one had a request in progress
type metrics struct {
	reg       *prometheus.Registry
	success   *prometheus.CounterVec
	failure   *prometheus.CounterVec
	count     *prometheus.CounterVec
	exec      *prometheus.CounterVec
	queue     *prometheus.HistogramVec
	compute   *prometheus.HistogramVec
	request   *prometheus.HistogramVec
	loaded    *prometheus.GaugeVec
	reloadErr *prometheus.CounterVec
	http      *prometheus.CounterVec
	grpc      *prometheus.CounterVec

	connOpen    *prometheus.GaugeVec
	connEvicted *prometheus.CounterVec
	connRefused *prometheus.CounterVec
}

// latencyBuckets span 50 µs to 10 s.
var latencyBuckets = prometheus.ExponentialBucketsRange(50e-6, 10, 20)

func newMetrics() *metrics {
	mv := []string{"model", "version"}
	m := &metrics{
		reg:       prometheus.NewRegistry(),
		success:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tapeml_inference_request_success", Help: "Inference requests answered successfully."}, mv),
		failure:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tapeml_inference_request_failure", Help: "Inference requests answered with an error, by HTTP status code."}, append(mv, "code")),
		count:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tapeml_inference_count", Help: "Examples inferred (a request may hold several)."}, mv),
		exec:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tapeml_inference_exec_count", Help: "Batches executed; inference_count / exec_count is the average batch size."}, mv),
		queue:     prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tapeml_inference_queue_duration_seconds", Help: "Time a request waited in the batcher's queue.", Buckets: latencyBuckets}, mv),
		compute:   prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tapeml_inference_compute_duration_seconds", Help: "Time a batch took to run.", Buckets: latencyBuckets}, mv),
		request:   prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tapeml_inference_request_duration_seconds", Help: "Time from a request's arrival to its answer.", Buckets: latencyBuckets}, mv),
		loaded:    prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tapeml_model_versions_loaded", Help: "Model versions being served."}, []string{"model"}),
		reloadErr: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tapeml_model_reload_failures_total", Help: "Model versions that failed to load."}, []string{"model"}),
		http:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tapeml_http_requests_total", Help: "HTTP requests answered, by status code."}, []string{"code"}),
		grpc:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tapeml_grpc_requests_total", Help: "gRPC requests answered, by method and status code."}, []string{"method", "code"}),

		connOpen:    prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tapeml_connections_open", Help: "Connections open, by protocol."}, []string{"protocol"}),
		connEvicted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tapeml_connections_evicted_total", Help: "Idle connections closed to make room for a new one (max connections reached)."}, []string{"protocol"}),
		connRefused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tapeml_connections_refused_total", Help: "New connections closed at once: max connections reached, none idle."}, []string{"protocol"}),
	}
	m.reg.MustRegister(m.success, m.failure, m.count, m.exec, m.queue, m.compute, m.request, m.loaded, m.reloadErr, m.http, m.grpc, m.connOpen, m.connEvicted, m.connRefused,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// versionObserver feeds one model version's batcher measurements to the
// metrics, its label values bound once.
type versionObserver struct {
	count, exec    prometheus.Counter
	queue, compute prometheus.Observer
}

func (m *metrics) forVersion(model string, version int64) *versionObserver {
	l := prometheus.Labels{"model": model, "version": strconv.FormatInt(version, 10)}
	return &versionObserver{count: m.count.With(l), exec: m.exec.With(l), queue: m.queue.With(l), compute: m.compute.With(l)}
}

func (o *versionObserver) queued(d time.Duration) { o.queue.Observe(d.Seconds()) }

func (o *versionObserver) executed(n int, d time.Duration) {
	o.count.Add(float64(n))
	o.exec.Inc()
	o.compute.Observe(d.Seconds())
}

// answered records a request to a known model version.
func (m *metrics) answered(model string, version int64, code int, d time.Duration) {
	v := strconv.FormatInt(version, 10)
	if code == 200 {
		m.success.WithLabelValues(model, v).Inc()
	} else {
		m.failure.WithLabelValues(model, v, strconv.Itoa(code)).Inc()
	}
	m.request.WithLabelValues(model, v).Observe(d.Seconds())
}

// forget drops a released version's histograms, the bulk of its series,
// so that metrics grow little with every version ever served. Its
// counters stay: totals remain sums over all versions.
func (m *metrics) forget(model string, version int64) {
	l := prometheus.Labels{"model": model, "version": strconv.FormatInt(version, 10)}
	for _, v := range []*prometheus.HistogramVec{m.queue, m.compute, m.request} {
		v.Delete(l)
	}
}
