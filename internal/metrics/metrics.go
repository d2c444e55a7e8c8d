// Package metrics exposes inkpass's Prometheus metrics: HTTP requests by route
// and status, logins by outcome, tokens by grant type, password verifications
// (count and latency, never by format or result), throttled attempts, and the
// age of the signing key.
//
// Other packages do not import it: each declares the one or two methods it
// reports through, and cmd/inkpass hands them a *Metrics. Labels never carry
// user data (no usernames, no client-supplied strings beyond route patterns),
// nor anything that differs between one account and another.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the collectors on their own registry.
type Metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	logins     *prometheus.CounterVec
	throttled  prometheus.Counter
	tokens     *prometheus.CounterVec
	verifies   prometheus.Counter
	verifyTime prometheus.Histogram
}

// New registers every collector, plus the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "inkpass_http_requests_total", Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "inkpass_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "inkpass_logins_total", Help: "Sign-in attempts by outcome: succeeded, invalid_credentials, password_verified (a second factor follows), invalid_code (a wrong second-factor code), throttled, busy (no hashing slot in time), error.",
		}, []string{"outcome"}),
		throttled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "inkpass_login_throttled_total", Help: "Sign-in attempts refused by the failed-login throttle.",
		}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "inkpass_tokens_issued_total", Help: "Tokens issued by grant type.",
		}, []string{"grant_type"}),
		// No format or result labels: one failed login moved the counter of
		// its user's stored format, telling whether the username exists,
		// and result="match" told that a guess was right even where the
		// account was deactivated. `inkpass user list --weak-hashes` shows
		// the formats.
		verifies: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "inkpass_password_verifications_total", Help: "Password verifications, unknown usernames' included.",
		}),
		verifyTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "inkpass_password_verification_seconds", Help: "Password verification latency, queueing included.",
			Buckets: []float64{.005, .01, .025, .05, .1, .2, .4, .8, 1.6, 3.2, 6.4},
		}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.logins, m.throttled, m.tokens, m.verifies, m.verifyTime,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Gauge registers a value read at scrape time (signing key age, hashing
// queue depth).
func (m *Metrics) Gauge(name, help string, read func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, read))
}

// Counter registers a monotonic count read at scrape time (the database
// writer's transactions and jobs).
func (m *Metrics) Counter(name, help string, read func() float64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, read))
}

// Request records one HTTP request.
func (m *Metrics) Request(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// Login records a sign-in attempt's outcome.
func (m *Metrics) Login(outcome string) {
	m.logins.WithLabelValues(outcome).Inc()
	if outcome == "throttled" {
		m.throttled.Inc()
	}
}

// TokenIssued records a token response.
func (m *Metrics) TokenIssued(grantType string) { m.tokens.WithLabelValues(grantType).Inc() }

// PasswordVerified records one verification. It takes neither the format nor
// the outcome, so that no label can tell one account from another.
func (m *Metrics) PasswordVerified(d time.Duration) {
	m.verifies.Inc()
	m.verifyTime.Observe(d.Seconds())
}
