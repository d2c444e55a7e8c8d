package oidc

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestDocuments_BuiltFromIssuerAndKeySetOnly builds the documents unit with
// nothing but an issuer and a key set: no store, no clients.
func TestDocuments_BuiltFromIssuerAndKeySetOnly(t *testing.T) {
	d := NewDocuments(Config{Issuer: unitIssuer}, fakeSigner{})

	body, etag := d.Discovery()
	var m metadata
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if m.Issuer != unitIssuer || m.TokenEndpoint != unitIssuer+PathToken || m.JWKSURI != unitIssuer+PathJWKS {
		t.Errorf("discovery names issuer %q, token %q, jwks %q", m.Issuer, m.TokenEndpoint, m.JWKSURI)
	}
	if etag == "" {
		t.Error("discovery has no ETag")
	}

	tests := []struct {
		name       string
		h          http.Handler
		ifNoneMtch string
		wantStatus int
		wantBody   string
	}{
		{"the JWKS is the key set's", d.JWKSHandler(), "", http.StatusOK, `{"keys":[]}`},
		{"the JWKS answers 304 to its own ETag", d.JWKSHandler(), `"fake"`, http.StatusNotModified, ""},
		{"discovery answers 304 to its own ETag", d.DiscoveryHandler(), etag, http.StatusNotModified, ""},
		{"discovery is served whole", d.DiscoveryHandler(), `"other"`, http.StatusOK, string(body)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tc.ifNoneMtch != "" {
				r.Header.Set("If-None-Match", tc.ifNoneMtch)
			}
			w := httptest.NewRecorder()
			tc.h.ServeHTTP(w, r)
			if w.Code != tc.wantStatus || w.Body.String() != tc.wantBody {
				t.Errorf("status %d body %q, want %d %q", w.Code, w.Body.String(), tc.wantStatus, tc.wantBody)
			}
		})
	}
}
