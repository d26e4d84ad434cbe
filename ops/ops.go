// Package ops is what an operator watches: liveness, readiness, Prometheus
// metrics and request logs.
package ops

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/haveyoursay/haveyoursay/store"
)

// Healthz answers GET /healthz: 200 while the process is up.
func Healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// Checks maps a dependency's name ("postgres", "redis") to a function that
// returns an error when it does not answer.
type Checks map[string]func(context.Context) error

// Readyz answers GET /readyz: 200 when every dependency answers, else 503
// with a JSON body naming the ones that did not.
func (c Checks) Readyz(w http.ResponseWriter, r *http.Request) {
	Readiness{Checks: c}.ServeHTTP(w, r)
}

// Readiness is what GET /readyz reports: the dependencies that must answer,
// and the surveys that are stored but could not be loaded.
type Readiness struct {
	Checks Checks
	// SurveysNotLoaded, if set, names the surveys whose stored version no
	// longer loads. The server is still ready (every other survey works),
	// but an operator watching /readyz sees what to fix.
	SurveysNotLoaded func() []string
	// Draining, if set, reports that the server is stopping: /readyz then
	// answers 503 at once, so a load balancer sends new requests elsewhere
	// while those in flight finish.
	Draining func() bool
	// Log gets the reason a check failed; the answer only names the
	// dependency (it is public: no user, host or port in it).
	Log *slog.Logger
}

// ServeHTTP answers GET /readyz: 200 when every dependency answers, else
// 503, with a JSON body naming the dependencies that did not answer (each
// "ok" or "not answering"; the reason goes to the log) and the surveys
// that could not be loaded. A stopping server answers 503 with "draining".
func (rd Readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if rd.Draining != nil && rd.Draining() {
		w.WriteHeader(http.StatusServiceUnavailable)
		json.NewEncoder(w).Encode(map[string]any{"ready": false, "draining": true, "failing": []string{}, "checks": map[string]string{}})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	names := make([]string, 0, len(rd.Checks))
	for n := range rd.Checks {
		names = append(names, n)
	}
	sort.Strings(names)
	status := map[string]string{}
	failed := []string{}
	for _, n := range names {
		if err := rd.Checks[n](ctx); err != nil {
			status[n] = "not answering"
			failed = append(failed, n)
			if rd.Log != nil {
				rd.Log.Warn("readiness check failed", "dependency", n, "err", err)
			}
		} else {
			status[n] = "ok"
		}
	}
	notLoaded := []string{}
	if rd.SurveysNotLoaded != nil {
		notLoaded = append(notLoaded, rd.SurveysNotLoaded()...)
	}
	code := http.StatusOK
	if len(failed) > 0 {
		code = http.StatusServiceUnavailable
	}
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"ready": len(failed) == 0, "failing": failed, "checks": status,
		"surveys_not_loaded": notLoaded})
}

// Metrics holds the Prometheus registry and the request metrics.
type Metrics struct {
	Registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// Token, when set (HYS_METRICS_TOKEN), must come with every GET
	// /metrics as a bearer token. Set it before calling Handler.
	Token string
	// Failures counts webhook failures by kind (e.g. "redis", "postgres",
	// "panic") that were answered with a kind fallback.
	Failures *prometheus.CounterVec
}

// NewMetrics makes a registry with Go, process and request metrics, and
// Postgres pool statistics when pool is not nil (store.DB.PoolStats).
func NewMetrics(pool func() store.PoolStats) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hys_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hys_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
		Failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hys_webhook_failures_total", Help: "Webhook failures answered with a fallback, by channel and cause.",
		}, []string{"channel", "cause"}),
	}
	reg.MustRegister(m.requests, m.duration, m.Failures,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if pool != nil {
		reg.MustRegister(poolCollector{pool})
	}
	return m
}

// Handler serves GET /metrics. With a Token (HYS_METRICS_TOKEN) it answers
// only requests that bring it as "Authorization: Bearer TOKEN"; others get
// 401 with a sentence.
func (m *Metrics) Handler() http.Handler {
	h := promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
	token := m.Token
	if token == "" {
		return h
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "The metrics need the token set in HYS_METRICS_TOKEN, sent as: Authorization: Bearer TOKEN.", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// SpoolStats is what the metrics show of the journal's spool.
type SpoolStats = store.SpoolStats

// WatchSpool adds the spool's depth, its oldest event's age and its write
// failures to the metrics, read from stats at each scrape.
func (m *Metrics) WatchSpool(stats func() SpoolStats) {
	// A second server sharing these metrics (tests) keeps the first's.
	m.Registry.Register(spoolCollector{stats})
}

type spoolCollector struct{ stats func() SpoolStats }

var (
	spoolDepth    = prometheus.NewDesc("hys_spool_depth", "Events in the file spool not yet written to Postgres.", nil, nil)
	spoolOldest   = prometheus.NewDesc("hys_spool_oldest_age_seconds", "How long the oldest event in the spool has waited for Postgres (0 when empty).", nil, nil)
	spoolFailures = prometheus.NewDesc("hys_spool_write_failures_total", "Writes to the file spool that failed (the events then went to Postgres directly, or the webhook answered 503).", nil, nil)
)

func (c spoolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- spoolDepth
	ch <- spoolOldest
	ch <- spoolFailures
}

func (c spoolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(spoolDepth, prometheus.GaugeValue, float64(s.Depth))
	ch <- prometheus.MustNewConstMetric(spoolOldest, prometheus.GaugeValue, s.OldestAge.Seconds())
	ch <- prometheus.MustNewConstMetric(spoolFailures, prometheus.CounterValue, float64(s.WriteFailures))
}

type recorder struct {
	http.ResponseWriter
	code int
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Middleware counts and times each request by its route template, and logs
// requests that fail or are slow.
func (m *Metrics) Middleware(log *slog.Logger) mux.MiddlewareFunc {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			route := "unmatched"
			if cr := mux.CurrentRoute(r); cr != nil {
				if t, err := cr.GetPathTemplate(); err == nil {
					route = t
				}
			}
			rec := &recorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			if rec.code == 0 {
				rec.code = http.StatusOK
			}
			took := time.Since(start)
			m.requests.WithLabelValues(route, r.Method, strconv.Itoa(rec.code)).Inc()
			m.duration.WithLabelValues(route, r.Method).Observe(took.Seconds())
			if log != nil && (rec.code >= 500 || took > time.Second) {
				log.Warn("request", "route", route, "method", r.Method, "code", rec.code, "took", took)
			}
		})
	}
}

// poolCollector reports the Postgres pool's statistics.
type poolCollector struct{ pool func() store.PoolStats }

var (
	poolTotal    = prometheus.NewDesc("hys_pg_pool_connections", "Postgres pool connections by state.", []string{"state"}, nil)
	poolAcquires = prometheus.NewDesc("hys_pg_pool_acquires_total", "Connections acquired from the Postgres pool.", nil, nil)
	poolWait     = prometheus.NewDesc("hys_pg_pool_acquire_wait_seconds_total", "Time spent waiting for a Postgres connection.", nil, nil)
)

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- poolTotal
	ch <- poolAcquires
	ch <- poolWait
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool()
	ch <- prometheus.MustNewConstMetric(poolTotal, prometheus.GaugeValue, float64(s.Idle), "idle")
	ch <- prometheus.MustNewConstMetric(poolTotal, prometheus.GaugeValue, float64(s.Acquired), "acquired")
	ch <- prometheus.MustNewConstMetric(poolTotal, prometheus.GaugeValue, float64(s.Max), "max")
	ch <- prometheus.MustNewConstMetric(poolAcquires, prometheus.CounterValue, float64(s.Acquires))
	ch <- prometheus.MustNewConstMetric(poolWait, prometheus.CounterValue, s.AcquireWait.Seconds())
}
