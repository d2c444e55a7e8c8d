package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"

	"github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/reqlog"
)

// maxBody bounds every request body: the largest legitimate one is a token
// request or a login form, a few kilobytes.
const maxBody = 64 << 10

// quietRoutes are polled by machines (probes, scrapers, relying parties
// refreshing keys): their successful answers are logged at debug level, so
// that the log is about people and tokens, and these cost no log line.
var quietRoutes = map[string]bool{
	"/healthz": true, "/readyz": true, "/metrics": true, "/static/": true, "/favicon.ico": true,
	"/.well-known/openid-configuration": true, "/jwks": true,
}

// noteRoute runs inside the router, after matching: mux only attaches the
// route to the request it passes down, and the request log wraps the router.
func (s *server) noteRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if line := reqlog.From(r.Context()); line != nil {
			if m := mux.CurrentRoute(r); m != nil {
				if t, err := m.GetPathTemplate(); err == nil {
					line.Route = t
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// Request ids only have to be unique among this process's log lines: a
// random start and a counter, rather than a read of crypto/rand per request.
var (
	requestIDStart = func() uint64 {
		var b [8]byte
		rand.Read(b[:])
		return binary.BigEndian.Uint64(b[:])
	}()
	requestIDCounter atomic.Uint64
)

func newRequestID() string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], requestIDStart+requestIDCounter.Add(1))
	return hex.EncodeToString(b[:])
}

// requestID returns the id the request log gave this request.
func requestID(ctx context.Context) string {
	if line := reqlog.From(ctx); line != nil {
		return line.ID
	}
	return ""
}

// statusRecorder remembers the status for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// requestLog gives each request an id and logs one line when it ends: method,
// route (the pattern, never the query, which may hold codes or tokens),
// status and duration.
func (s *server) requestLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newRequestID()
		w.Header()["X-Request-Id"] = []string{id}
		ctx, line := reqlog.Start(r.Context(), id, "(unmatched)")
		r = r.WithContext(ctx)
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		took := time.Since(start)
		s.Metrics.Request(line.Route, r.Method, rec.status, took)
		level := slog.LevelInfo
		switch {
		case rec.status >= 500:
			level = slog.LevelError
		case quietRoutes[line.Route] && rec.status < 400:
			level = slog.LevelDebug
		}
		if !s.log.Enabled(ctx, level) {
			return
		}
		attrs := append([]slog.Attr{
			slog.String("request_id", id),
			slog.String("method", r.Method),
			slog.String("route", line.Route),
			slog.Int("status", rec.status),
			slog.Duration("duration", took),
		}, line.Attrs()...)
		s.log.LogAttrs(ctx, level, "request", attrs...)
	})
}

// cors lets browser apps (public clients) call the token, userinfo and
// revocation endpoints from their own origin. No cookies are involved there:
// those endpoints authenticate by header or body, so any origin may call them
// without credentials.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "GET, POST")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a panic into a 500 page and one error log line.
func (s *server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic", "request_id", requestID(r.Context()), "panic", v)
				s.errorPage(w, r, http.StatusInternalServerError, "", "")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// limitBodies answers 413 to a body over maxBody, before any handler reads
// it: a handler that met the limit half-way through a form would only see a
// form it cannot parse, and answer 400. A declared length is checked at once;
// a body of unknown length (chunked) is read here, up to the limit, which for
// forms of a few kilobytes costs one small buffer.
func (s *server) limitBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := int64(maxBody)
		if n, ok := s.UploadLimits[r.URL.Path]; ok && r.Method == http.MethodPost {
			limit = n
		}
		switch {
		case r.ContentLength > limit:
			s.tooLarge(w, r)
			return
		case r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody:
			body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
			if err != nil {
				s.errorPage(w, r, http.StatusBadRequest, "The request could not be read", "")
				return
			}
			if int64(len(body)) > limit {
				s.tooLarge(w, r)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		default:
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		next.ServeHTTP(w, r)
	})
}

// tooLarge answers 413: in OAuth's JSON at the endpoints machines call, with
// inkpass's error page elsewhere. The connection is closed rather than the
// rest of the body read.
func (s *server) tooLarge(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Connection", "close")
	switch r.URL.Path {
	case oidc.PathToken, oidc.PathRevoke, oidc.PathIntrospect, oidc.PathUserInfo:
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		fmt.Fprintf(w, `{"error":"invalid_request","error_description":"the request body is larger than %d KiB"}`, maxBody>>10)
	default:
		s.errorPage(w, r, http.StatusRequestEntityTooLarge, "This request is too large",
			fmt.Sprintf("inkpass accepts at most %d KiB. Go back and try again.", maxBody>>10))
	}
}

// securityHeaders applies to every answer; pages add their own CSP.
func (s *server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.setSecurityHeaders(w.Header())
		next.ServeHTTP(w, r)
	})
}

var (
	headerNosniff    = []string{"nosniff"}
	headerNoReferrer = []string{"no-referrer"}
	headerHSTS       = []string{"max-age=31536000"}
)

func (s *server) setSecurityHeaders(h http.Header) {
	h["X-Content-Type-Options"] = headerNosniff
	h["Referrer-Policy"] = headerNoReferrer
	if s.SecureCookies {
		h["Strict-Transport-Security"] = headerHSTS
	}
}

// clientAddr is the address failed logins are counted against: the
// connection's peer, or, behind a trusted proxy, the last address in
// X-Forwarded-For that is not itself a trusted proxy.
func (s *server) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !s.trusted(peer) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if a = a.Unmap(); !s.trusted(a) {
			return a.String()
		}
	}
	return peer.String()
}

func (s *server) trusted(a netip.Addr) bool {
	for _, p := range s.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("ok\n"))
}

func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.Ready(ctx); err != nil {
		s.log.WarnContext(r.Context(), "not ready", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		// The reason is for the operator reading the probe's output; it
		// names a condition (disk full, lock held), never data.
		fmt.Fprintf(w, "not ready: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		return
	}
	w.Write([]byte("ready\n"))
}

func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotFound, "Page not found", "There is nothing at this address.")
}

func (s *server) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusMethodNotAllowed, "Method not allowed", "This address does not accept that kind of request.")
}

// errorPage renders inkpass's error page; the cause, if any, was logged by the
// caller.
func (s *server) errorPage(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	err := s.pages.render(w, status, pageError, ErrorPage{
		Studio: s.studio(r.Context()), Title: title, Message: message, Status: status, RequestID: requestID(r.Context()),
	})
	if err != nil {
		s.log.ErrorContext(r.Context(), "render error page", "err", err)
	}
}
