package web

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/inkpass/inkpass/internal/oidc"
)

// documents answers GET and HEAD of the discovery document and the JWKS
// ahead of the request log and the router. They are the most frequent
// requests of all (every relying party, gateway and SDK polls them), the
// same pre-encoded bytes for everyone, and need nothing the chain adds: no
// session, form, body or route variables, and a success is only logged at
// debug level anyway. They keep their security headers and their metrics.
// With debug logging on, they take the full chain, so that each gets its
// request id and log line.
func (s *server) documents(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		var etag string
		switch r.URL.Path {
		case oidc.PathDiscovery:
			if !s.fastDocument(r) {
				break
			}
			body, etag = s.Provider.Discovery()
		case oidc.PathJWKS:
			if !s.fastDocument(r) {
				break
			}
			body, etag = s.Provider.JWKS()
		}
		if body == nil {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		s.setSecurityHeaders(w.Header())
		status := oidc.ServeDocument(w, r, body, etag)
		s.Metrics.Request(r.URL.Path, r.Method, status, time.Since(start))
	})
}

func (s *server) fastDocument(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && !s.log.Enabled(r.Context(), slog.LevelDebug)
}
