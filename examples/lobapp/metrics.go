package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ssokit/ssokit/examples/internal/labels"
	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/ssotoken"
)

// metrics are lobapp's Prometheus metrics (-metrics-addr), in a registry
// of their own. Every label value is bounded: no token, CIINo or
// TokenRefNo.
type metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec   // ssokit_requests_total{endpoint,outcome,code}
	latency     *prometheus.HistogramVec // ssokit_request_duration_seconds{endpoint}
	redemptions *prometheus.CounterVec   // ssokit_sso_redemptions_total{result}
	fetches     *prometheus.CounterVec   // ssokit_sso_jwks_fetches_total{result}
}

// newMetrics returns the metrics, every redemption result counted from
// zero, with the Go runtime's and the process's.
func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssokit_requests_total",
			Help: "Finished redemptions of TokenNo at POST /sso, by endpoint (sso_token), outcome (accepted, refused, failed) and error code (none when accepted).",
		}, []string{"endpoint", "outcome", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ssokit_request_duration_seconds",
			Help:    "Time from the start of a redemption to its verdict, by endpoint.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"endpoint"}),
		redemptions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssokit_sso_redemptions_total",
			Help: "TokenNo redemptions in the replay store by result (accepted, replayed, caller_limited, store_full, store_unavailable); tokens refused before it are not redemptions.",
		}, []string{"result"}),
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssokit_sso_jwks_fetches_total",
			Help: "Finished fetches of the issuer's JWKS (-sso-jwks-url), by result (ok, HTTP 503, timeout, ...).",
		}, []string{"result"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.redemptions, m.fetches,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, r := range redeemResults {
		m.redemptions.WithLabelValues(string(r))
	}
	return m
}

// onEvent counts one redemption at /sso; nil without metrics.
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

// onRedeem counts one redemption in the replay store; nil without metrics.
func (m *metrics) onRedeem() func(context.Context, ssotoken.RedeemResult) {
	if m == nil {
		return nil
	}
	return func(_ context.Context, r ssotoken.RedeemResult) {
		m.redemptions.WithLabelValues(labels.Bounded(string(r), knownRedeem)).Inc()
	}
}

// onFetch counts one fetch of the JWKS; nil without metrics.
func (m *metrics) onFetch() func(ssotoken.FetchEvent) {
	if m == nil {
		return nil
	}
	return func(e ssotoken.FetchEvent) { m.fetches.WithLabelValues(labels.FetchResult(e.Result)).Inc() }
}

// serveMetrics serves GET /metrics of m on ln until the returned func is
// called.
func serveMetrics(ln net.Listener, m *metrics, logger *slog.Logger) func() {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn), MaxRequestsInFlight: 4, Timeout: 10 * time.Second,
	}))
	ms := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 15 * time.Second, IdleTimeout: 60 * time.Second}
	go func() { _ = ms.Serve(ln) }()
	logger.Info("lobapp metrics endpoint", "addr", ln.Addr().String(), "url", "http://"+ln.Addr().String()+"/metrics")
	return func() { ms.Close() }
}

// readyz answers GET /readyz: 200 "ready" when v can accept tokens (its
// keys fetched, with -sso-jwks-url, and its replay store answering), else
// 503 and why.
func readyz(v *ssotoken.Verifier) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := v.Ready(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "not ready: "+err.Error()+"\n")
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	}
}

var (
	// redeemResults are the results of a redemption, each counted from
	// zero: caller_limited is a CIINo over its share of the memory replay
	// store (-replay-entries-per-caller), the mark of a flood of one
	// user's tokens.
	redeemResults = []ssotoken.RedeemResult{ssotoken.RedeemAccepted, ssotoken.RedeemReplayed,
		ssotoken.RedeemCallerLimited, ssotoken.RedeemStoreFull, ssotoken.RedeemStoreUnavailable}
	knownEndpoints = labels.Set(httpadapter.EndpointSSOToken)
	knownOutcomes  = labels.Set("accepted", "refused", "failed")
	knownRedeem    = func() map[string]bool {
		m := labels.Set()
		for _, r := range redeemResults {
			m[string(r)] = true
		}
		return m
	}()
)
