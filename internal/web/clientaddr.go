package web

import (
	"net/http"

	"github.com/inkpass/inkpass/internal/oidc"
)

// withClientAddr hands an endpoint that authenticates clients the address
// its failures are counted against: clientAddr, trusted proxies included.
func (s *server) withClientAddr(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(oidc.WithClientAddr(r.Context(), s.clientAddr(r))))
	})
}
