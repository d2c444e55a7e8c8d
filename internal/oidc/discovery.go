package oidc

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/keys"
)

// Endpoint paths, relative to the issuer.
const (
	PathDiscovery = "/.well-known/openid-configuration"
	PathJWKS      = "/jwks"
	PathAuthorize = "/authorize"
	PathToken     = "/token"
	PathUserInfo  = "/userinfo"
)

// KeySet is the public half of Signer: the JWKS, pre-encoded, and its ETag.
type KeySet interface {
	JWKS() []byte
	JWKSETag() string
}

// Documents serves the public documents relying parties poll: the discovery
// document (OpenID Connect Discovery 1.0, RFC 8414) and the JWKS. It needs
// only the issuer and the key set.
type Documents struct {
	keys KeySet
	// The discovery document, pre-encoded: nothing in it depends on the
	// keys of the moment, so it is built once.
	body []byte
	etag string
}

// NewDocuments builds the discovery document for cfg's issuer; the JWKS is
// read from keys on each request, so a rotation shows at once.
func NewDocuments(cfg Config, keys KeySet) *Documents {
	body, etag := buildDiscovery(cfg.Issuer)
	return &Documents{keys: keys, body: body, etag: etag}
}

// metadata is OpenID Connect Discovery 1.0 §3 (and RFC 8414). It advertises
// exactly what inkpass implements.
type metadata struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	EndSessionEndpoint                string   `json:"end_session_endpoint"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	IntrospectionEndpoint             string   `json:"introspection_endpoint"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	RevocationAuthMethodsSupported    []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectionAuthMethodsSupported []string `json:"introspection_endpoint_auth_methods_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	PromptValuesSupported             []string `json:"prompt_values_supported"`
	ACRValuesSupported                []string `json:"acr_values_supported"`
	ClaimsParameterSupported          bool     `json:"claims_parameter_supported"`
	RequestParameterSupported         bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported      bool     `json:"request_uri_parameter_supported"`
	AuthorizationResponseISSSupported bool     `json:"authorization_response_iss_parameter_supported"`
	BackchannelLogoutSupported        bool     `json:"backchannel_logout_supported"`
	BackchannelLogoutSessionSupported bool     `json:"backchannel_logout_session_supported"`
}

// buildDiscovery builds the document. id_token_signing_alg_values_supported
// lists every algorithm a client may be registered for, RS256 first
// (Discovery §3 requires it), whatever keys exist at the moment: relying
// parties such as go-oidc and oauth2-proxy take the list at start-up as the
// algorithms they accept, so it must not change when a key is rotated or a
// client is given a new algorithm (its key may be made after they started).
func buildDiscovery(iss string) (body []byte, etag string) {
	var names []string
	for _, a := range keys.SupportedAlgorithms() {
		names = append(names, string(a))
	}
	m := metadata{
		Issuer:                            iss,
		AuthorizationEndpoint:             iss + PathAuthorize,
		TokenEndpoint:                     iss + PathToken,
		UserinfoEndpoint:                  iss + PathUserInfo,
		JWKSURI:                           iss + PathJWKS,
		EndSessionEndpoint:                iss + PathEndSession,
		RevocationEndpoint:                iss + PathRevoke,
		IntrospectionEndpoint:             iss + PathIntrospect,
		ScopesSupported:                   client.SupportedScopes,
		ResponseTypesSupported:            []string{"code"},
		ResponseModesSupported:            []string{ModeQuery, ModeFormPost},
		GrantTypesSupported:               []string{client.GrantAuthorizationCode, client.GrantRefreshToken, client.GrantClientCredentials},
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  names,
		TokenEndpointAuthMethodsSupported: []string{client.AuthSecretBasic, client.AuthSecretPost, client.AuthNone},
		RevocationAuthMethodsSupported:    []string{client.AuthSecretBasic, client.AuthSecretPost, client.AuthNone},
		IntrospectionAuthMethodsSupported: []string{client.AuthSecretBasic, client.AuthSecretPost},
		ClaimsSupported:                   claimsSupported,
		CodeChallengeMethodsSupported:     []string{"S256"},
		PromptValuesSupported:             []string{"none", "login", "consent", "select_account"},
		ACRValuesSupported:                []string{ACRPassword, ACRMFA},
		AuthorizationResponseISSSupported: true,
		ClaimsParameterSupported:          true,
		// Every logout token carries sid (Back-Channel Logout 1.0 §2.1).
		BackchannelLogoutSupported:        true,
		BackchannelLogoutSessionSupported: true,
	}
	body, _ = json.MarshalIndent(m, "", "  ")
	sum := sha256.Sum256(body)
	return body, `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
}

// Discovery returns the pre-encoded discovery document and its ETag.
func (d *Documents) Discovery() (body []byte, etag string) {
	return d.body, d.etag
}

// JWKS returns the public keys, pre-encoded by the key set, and their ETag.
func (d *Documents) JWKS() (body []byte, etag string) {
	return d.keys.JWKS(), d.keys.JWKSETag()
}

// DiscoveryHandler serves the pre-encoded discovery document.
func (d *Documents) DiscoveryHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, etag := d.Discovery()
		ServeDocument(w, r, body, etag)
	})
}

// JWKSHandler serves the public keys. The max-age is short so that clients
// pick up a rotated key within minutes.
func (d *Documents) JWKSHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, etag := d.JWKS()
		ServeDocument(w, r, body, etag)
	})
}

// Header values of the public documents, built once: these answers are the
// most frequent of all (every relying party and gateway polls them), and
// assigning ready slices under canonical keys skips Header.Set's work.
var (
	documentContentType = []string{"application/json"}
	documentCache       = []string{"public, max-age=300"}
	documentCORS        = []string{"*"}
)

// ServeDocument answers with a public JSON document: cacheable, readable from
// any origin, and 304 when the client already holds this ETag. It returns the
// status it wrote.
func ServeDocument(w http.ResponseWriter, r *http.Request, body []byte, etag string) int {
	h := w.Header()
	h["Content-Type"] = documentContentType
	h["Cache-Control"] = documentCache
	h["Etag"] = []string{etag}
	h["Access-Control-Allow-Origin"] = documentCORS
	if match := r.Header["If-None-Match"]; len(match) > 0 && etagMatches(match, etag) {
		w.WriteHeader(http.StatusNotModified)
		return http.StatusNotModified
	}
	w.Write(body)
	return http.StatusOK
}

// etagMatches implements If-None-Match's weak comparison (RFC 9110 §13.1.2):
// a list of tags, W/ prefixes ignored, or "*".
func etagMatches(fields []string, etag string) bool {
	for _, f := range fields {
		for tag := range strings.SplitSeq(f, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
				return true
			}
		}
	}
	return false
}
