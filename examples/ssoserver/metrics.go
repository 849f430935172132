package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ssokit/ssokit/cognito"
	"github.com/ssokit/ssokit/examples/internal/labels"
	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/ssotoken"
)

// metrics are the Prometheus metrics of -metrics-addr, in a registry of
// their own (never the global one). Every label value is bounded: an
// endpoint, an outcome and an error code of the library (anything else is
// "other"), a configured issuer, a JWKS fetch result. None is a subject, a
// client id from the wire or a token.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec   // ssokit_requests_total{endpoint,outcome,code}
	latency  *prometheus.HistogramVec // ssokit_request_duration_seconds{endpoint}
	inFlight *prometheus.GaugeVec     // ssokit_requests_in_flight{endpoint}
	fetches  *prometheus.CounterVec   // ssokit_cognito_jwks_fetches_total{issuer,result}
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssokit_requests_total",
			Help: "Finished calls by endpoint, outcome (issued, exchanged, authenticated, refused, failed) and error code (none on success).",
		}, []string{"endpoint", "outcome", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ssokit_request_duration_seconds",
			Help:    "Time from the start of a call to its response (for user.json: to the bearer check's verdict), by endpoint.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"endpoint"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ssokit_requests_in_flight",
			Help: "Calls being served now, by endpoint.",
		}, []string{"endpoint"}),
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssokit_cognito_jwks_fetches_total",
			Help: "Finished fetches of a user pool's JWKS, by issuer and result (ok, HTTP 503, timeout, connection refused, ...).",
		}, []string{"issuer", "result"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.inFlight, m.fetches,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, e := range endpoints {
		m.inFlight.WithLabelValues(e)
	}
	return m
}

// endpoints are the library's Event.Endpoint values that ssoserver serves.
var endpoints = []string{httpadapter.EndpointGenerateSSOToken, httpadapter.EndpointCookieExchange, httpadapter.EndpointBearer}

// onEvent counts one finished call; nil (no hook) without metrics.
func (m *metrics) onEvent() func(context.Context, httpadapter.Event) {
	if m == nil {
		return nil
	}
	return func(_ context.Context, e httpadapter.Event) {
		endpoint := labels.Bounded(e.Endpoint, knownEndpoints)
		m.requests.WithLabelValues(endpoint, labels.Bounded(e.Outcome(), knownOutcomes), labels.Code(e.Code)).Inc()
		m.latency.WithLabelValues(endpoint).Observe(e.Latency.Seconds())
	}
}

// onFetch counts one JWKS fetch; nil without metrics.
func (m *metrics) onFetch() func(ssotoken.FetchEvent) {
	if m == nil {
		return nil
	}
	return func(e ssotoken.FetchEvent) {
		m.fetches.WithLabelValues(e.Issuer, labels.FetchResult(e.Result)).Inc()
	}
}

// track counts the calls of h in flight under endpoint; h itself without
// metrics.
func (m *metrics) track(endpoint string, h http.Handler) http.Handler {
	if m == nil {
		return h
	}
	g := m.inFlight.WithLabelValues(endpoint)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.Inc()
		defer g.Dec()
		h.ServeHTTP(w, r)
	})
}

// watch exports auth's figures, read at scrape time: keys held and last
// good fetch per pool, and the verified-token cache.
func (m *metrics) watch(auth *cognito.Authenticator) {
	if m != nil {
		m.reg.MustRegister(authCollector{auth})
	}
}

var (
	keysDesc = prometheus.NewDesc("ssokit_cognito_jwks_keys",
		"Usable keys held now for the user pool of the issuer.", []string{"issuer"}, nil)
	lastOKDesc = prometheus.NewDesc("ssokit_cognito_jwks_last_success_timestamp_seconds",
		"End of the last good JWKS fetch of the user pool (unix seconds); absent before the first.", []string{"issuer"}, nil)
	readyDesc = prometheus.NewDesc("ssokit_cognito_jwks_ready",
		"1 once a usable key of the user pool has been held, else 0 (tokens of the pool get 502 jwks_unavailable).", []string{"issuer"}, nil)
	hitsDesc = prometheus.NewDesc("ssokit_cognito_token_cache_hits_total",
		"Access tokens answered from the verified-token cache, with no signature check.", nil, nil)
	missesDesc = prometheus.NewDesc("ssokit_cognito_token_cache_misses_total",
		"Access tokens looked up in the verified-token cache and not found: verified cold, or refused.", nil, nil)
	entriesDesc = prometheus.NewDesc("ssokit_cognito_token_cache_entries",
		"Access tokens in the verified-token cache now.", nil, nil)
)

// authCollector reads an Authenticator's Stats when Prometheus scrapes.
type authCollector struct{ auth *cognito.Authenticator }

func (c authCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{keysDesc, lastOKDesc, readyDesc, hitsDesc, missesDesc, entriesDesc} {
		ch <- d
	}
}

func (c authCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.auth.Stats()
	for _, p := range s.Pools {
		ch <- prometheus.MustNewConstMetric(keysDesc, prometheus.GaugeValue, float64(p.Keys), p.Issuer)
		ready := 0.0
		if p.Ready {
			ready = 1
		}
		ch <- prometheus.MustNewConstMetric(readyDesc, prometheus.GaugeValue, ready, p.Issuer)
		if !p.LastOK.IsZero() {
			ch <- prometheus.MustNewConstMetric(lastOKDesc, prometheus.GaugeValue, float64(p.LastOK.UnixNano())/1e9, p.Issuer)
		}
	}
	ch <- prometheus.MustNewConstMetric(hitsDesc, prometheus.CounterValue, float64(s.CacheHits))
	ch <- prometheus.MustNewConstMetric(missesDesc, prometheus.CounterValue, float64(s.CacheMisses))
	ch <- prometheus.MustNewConstMetric(entriesDesc, prometheus.GaugeValue, float64(s.CacheEntries))
}

// serveMetrics serves GET /metrics of m on its own listener, outside the
// network guard, and logs where. The returned func closes it.
func serveMetrics(ln net.Listener, m *metrics, logger *slog.Logger) func() {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn), MaxRequestsInFlight: 4, Timeout: 10 * time.Second,
	}))
	ms := newServer(mux, logger, defaultReadTimeout, 10*time.Second)
	go func() { _ = ms.Serve(ln) }()
	logger.Info("metrics endpoint", "addr", ln.Addr().String(), "url", "http://"+ln.Addr().String()+"/metrics")
	return func() { ms.Close() }
}

var (
	knownEndpoints = labels.Set(httpadapter.EndpointGenerateSSOToken, httpadapter.EndpointCookieExchange,
		httpadapter.EndpointBearer, httpadapter.EndpointSSOToken)
	knownOutcomes = labels.Set("issued", "exchanged", "authenticated", "accepted", "refused", "failed")
)
